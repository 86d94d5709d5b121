// SHAPE: writes the input's dims as int32 or int64 (what converters emit around a dynamic batch dimension).
#include "ops.h"

namespace qbuild {
namespace ops {

Status prepare_shape(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  if (!in || !out || out->rank != 1 || out->dims[0] != in->rank) return Status::kBadOpParams;
  if (out->type != TensorType::kInt32 && out->type != TensorType::kInt64) return Status::kBadOpParams;
  return Status::kOk;
}

Status eval_shape(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  for (int i = 0; i < in->rank; ++i) {
    if (out->type == TensorType::kInt32) {
      out->data.i32[i] = in->dims[i];
    } else {
      out->data.i64[i] = in->dims[i];
    }
  }
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
