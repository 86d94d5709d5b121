// RESHAPE (and the shape-only ops): same bytes, new dims. The output shape comes from the model (static shapes); a
// shape input tensor, when present, is not needed.
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {

Status prepare_reshape(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  if (!in || !out || ctx.output_count() != 1 || in->type != out->type || in->bytes != out->bytes) {
    return Status::kBadOpParams;
  }
  return Status::kOk;
}

Status eval_reshape(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  // Input and output are both live at this op, so the planner never lets them overlap (the same tensor on both
  // sides is the one exception): memcpy, which every firmware already links, instead of memmove (+254 B on M33).
  if (out->data.raw != in->data.raw) memcpy(out->data.raw, in->data.raw, out->bytes);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
