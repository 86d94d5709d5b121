// PACK: stacks values_count tensors of equal shape along a new axis.
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {
namespace {

struct PackGeometry {
  uint32_t outer;       // product of dims before the axis
  uint32_t copy_bytes;  // bytes of one input slice (dims from the axis on)
};

bool geometry(const OpContext& ctx, PackGeometry* g) {
  const TensorView* out = ctx.output(0);
  const TensorView* first = ctx.input(0);
  int32_t count = ctx.fb->scalar<int32_t>(ctx.options, schema::pack::kValuesCount, 0);
  int32_t axis = ctx.fb->scalar<int32_t>(ctx.options, schema::pack::kAxis, 0);
  if (!out || !first || count != ctx.input_count() || count < 1 || out->rank != first->rank + 1) return false;
  if (axis < 0) axis += out->rank;
  if (axis < 0 || axis >= out->rank || out->dims[axis] != count) return false;
  for (int i = 0; i < count; ++i) {
    const TensorView* in = ctx.input(i);
    if (!in || in->type != out->type || !same_shape(*in, *first)) return false;
  }
  for (int d = 0, k = 0; d < out->rank; ++d) {
    if (d == axis) continue;
    if (out->dims[d] != first->dims[k++]) return false;
  }
  uint32_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= static_cast<uint32_t>(out->dims[d]);
  g->outer = outer;
  g->copy_bytes = first->bytes / outer;
  return true;
}

}  // namespace

Status prepare_pack(OpContext& ctx) {
  PackGeometry g;
  return geometry(ctx, &g) ? Status::kOk : Status::kBadOpParams;
}

Status eval_pack(OpContext& ctx) {
  PackGeometry g;
  const bool valid = geometry(ctx, &g);  // checked in Prepare
  QBUILD_DEBUG_ASSERT(valid);
  (void)valid;
  uint8_t* dst = static_cast<uint8_t*>(ctx.output(0)->data.raw);
  const int count = ctx.input_count();
  for (uint32_t o = 0; o < g.outer; ++o) {
    for (int i = 0; i < count; ++i) {
      memcpy(dst, static_cast<const uint8_t*>(ctx.input(i)->data.raw) + o * g.copy_bytes, g.copy_bytes);
      dst += g.copy_bytes;
    }
  }
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
