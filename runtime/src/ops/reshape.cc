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
  if (out->data.raw != in->data.raw) memmove(out->data.raw, in->data.raw, out->bytes);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
