// SPLIT and UNPACK: one input cut along an axis into equal pieces, copied as they are (int8 pieces keep the input's
// quantization, as TFLM's kernels assume). SPLIT's pieces keep the axis (num_splits pieces of dims[axis] / n);
// UNPACK's drop it (dims[axis] pieces of rank - 1). Unrolled recurrent layers are made of these.
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {
namespace {

struct SplitGeometry {
  uint32_t outer;        // product of dims before the axis
  uint32_t piece_bytes;  // bytes of one output per outer step
  uint32_t count;        // outputs
};

// Checks the outputs against `input` cut into `count` pieces along `axis` (keep_axis: SPLIT, else UNPACK).
bool geometry(const OpContext& ctx, const TensorView* in, int32_t axis, int32_t count, bool keep_axis,
              SplitGeometry* g) {
  if (!in || in->rank < 1 || count < 1 || count != ctx.output_count()) return false;
  if (axis < 0) axis += in->rank;
  if (axis < 0 || axis >= in->rank || in->dims[axis] % count != 0) return false;
  const int32_t part = in->dims[axis] / count;
  if (!keep_axis && part != 1) return false;
  for (int i = 0; i < count; ++i) {
    const TensorView* out = ctx.output(i);
    if (!out || out->type != in->type || out->rank != in->rank - (keep_axis ? 0 : 1)) return false;
    for (int d = 0, k = 0; d < in->rank; ++d) {
      if (d == axis && !keep_axis) continue;
      if (out->dims[k++] != (d == axis ? part : in->dims[d])) return false;
    }
  }
  uint32_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= static_cast<uint32_t>(in->dims[d]);
  g->outer = outer;
  g->count = static_cast<uint32_t>(count);
  g->piece_bytes = in->bytes / outer / g->count;
  return true;
}

bool split_geometry(const OpContext& ctx, SplitGeometry* g) {
  const TensorView* axis = ctx.input(0);  // a constant int32 scalar
  if (ctx.input_count() != 2 || !axis || axis->type != TensorType::kInt32 || axis->elements() != 1 || !axis->data.raw) {
    return false;
  }
  const int32_t n = ctx.fb->scalar<int32_t>(ctx.options, schema::split::kNumSplits, 0);
  return geometry(ctx, ctx.input(1), axis->data.i32[0], n, true, g);
}

bool unpack_geometry(const OpContext& ctx, SplitGeometry* g) {
  const int32_t n = ctx.fb->scalar<int32_t>(ctx.options, schema::unpack::kNum, 0);
  const int32_t axis = ctx.fb->scalar<int32_t>(ctx.options, schema::unpack::kAxis, 0);
  return ctx.input_count() == 1 && geometry(ctx, ctx.input(0), axis, n, false, g);
}

void copy_pieces(const OpContext& ctx, const TensorView* in, const SplitGeometry& g) {
  const uint8_t* src = static_cast<const uint8_t*>(in->data.raw);
  for (uint32_t o = 0; o < g.outer; ++o) {
    for (uint32_t i = 0; i < g.count; ++i) {
      memcpy(static_cast<uint8_t*>(ctx.output(static_cast<int>(i))->data.raw) + o * g.piece_bytes, src,
             g.piece_bytes);
      src += g.piece_bytes;
    }
  }
}

}  // namespace

Status prepare_split(OpContext& ctx) {
  SplitGeometry g;
  return split_geometry(ctx, &g) ? Status::kOk : Status::kBadOpParams;
}

Status eval_split(OpContext& ctx) {
  SplitGeometry g;
  const bool valid = split_geometry(ctx, &g);  // checked in Prepare
  QBUILD_DEBUG_ASSERT(valid);
  (void)valid;
  copy_pieces(ctx, ctx.input(1), g);
  return Status::kOk;
}

Status prepare_unpack(OpContext& ctx) {
  SplitGeometry g;
  return unpack_geometry(ctx, &g) ? Status::kOk : Status::kBadOpParams;
}

Status eval_unpack(OpContext& ctx) {
  SplitGeometry g;
  const bool valid = unpack_geometry(ctx, &g);  // checked in Prepare
  QBUILD_DEBUG_ASSERT(valid);
  (void)valid;
  copy_pieces(ctx, ctx.input(0), g);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
