// SOFTMAX over the last axis.
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::SoftmaxParams) == 12, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_softmax(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  if (!unary_int8(ctx) || in->rank < 1) return Status::kBadOpParams;
  float beta = ctx.fb->scalar<float>(ctx.options, schema::softmax::kBeta, 1.0f);
  auto* params = static_cast<k::SoftmaxParams*>(ctx.alloc(sizeof(k::SoftmaxParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_softmax(beta, quant(*in), quant(*ctx.output(0)), params));
}

Status eval_softmax(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const int32_t depth = in->dims[in->rank - 1];
  const int32_t outer = static_cast<int32_t>(in->elements() / static_cast<size_t>(depth));
  k::eval_softmax(*ctx.data_at<const k::SoftmaxParams>(0), outer, depth, in->data.int8, ctx.output(0)->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
