// PAD with constant paddings. The pad value is the output zero point for int8/uint8 (as TFLM) and 0 otherwise.
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {
namespace {

struct PadGeometry {
  int rank;
  uint32_t before[QBUILD_MAX_DIMS];   // in bytes for the last dim, in elements otherwise
  uint32_t in_dims[QBUILD_MAX_DIMS];
  uint32_t out_stride[QBUILD_MAX_DIMS];  // bytes
  uint32_t in_stride[QBUILD_MAX_DIMS];   // bytes
  uint8_t fill;
};

bool geometry(const OpContext& ctx, PadGeometry* g) {
  const TensorView* in = ctx.input(0);
  const TensorView* pads = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (!in || !pads || !out || in->type != out->type || in->rank != out->rank || in->rank < 1) return false;
  if (!pads->is_constant || pads->rank != 2 || pads->dims[0] != in->rank || pads->dims[1] != 2) return false;
  g->rank = in->rank;
  const uint32_t es = static_cast<uint32_t>(type_size(in->type));
  uint32_t out_stride = es, in_stride = es;
  for (int d = in->rank - 1; d >= 0; --d) {
    int64_t lo, hi;
    if (!read_index(*pads, 2u * d, &lo) || !read_index(*pads, 2u * d + 1, &hi)) return false;
    if (lo < 0 || hi < 0 || lo + in->dims[d] + hi != out->dims[d]) return false;
    g->before[d] = static_cast<uint32_t>(lo);
    g->in_dims[d] = static_cast<uint32_t>(in->dims[d]);
    g->out_stride[d] = out_stride;
    g->in_stride[d] = in_stride;
    out_stride *= static_cast<uint32_t>(out->dims[d]);
    in_stride *= static_cast<uint32_t>(in->dims[d]);
  }
  const bool quantized8 = out->type == TensorType::kInt8 || out->type == TensorType::kUInt8;
  g->fill = quantized8 ? static_cast<uint8_t>(out->params.zero_point) : 0;
  return true;
}

// Copies the input block of dimension d into the (already filled) output.
void copy_block(const PadGeometry& g, int d, const uint8_t* src, uint8_t* dst) {
  dst += g.before[d] * g.out_stride[d];
  if (d == g.rank - 1) {
    memcpy(dst, src, g.in_dims[d] * g.in_stride[d]);
    return;
  }
  for (uint32_t i = 0; i < g.in_dims[d]; ++i) copy_block(g, d + 1, src + i * g.in_stride[d], dst + i * g.out_stride[d]);
}

}  // namespace

Status prepare_pad(OpContext& ctx) {
  PadGeometry g;
  return geometry(ctx, &g) ? Status::kOk : Status::kBadOpParams;
}

Status eval_pad(OpContext& ctx) {
  PadGeometry g;
  const bool valid = geometry(ctx, &g);  // checked in Prepare
  QBUILD_DEBUG_ASSERT(valid);
  (void)valid;
  TensorView* out = ctx.output(0);
  memset(out->data.raw, g.fill, out->bytes);
  copy_block(g, 0, static_cast<const uint8_t*>(ctx.input(0)->data.raw), static_cast<uint8_t*>(out->data.raw));
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
