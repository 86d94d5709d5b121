// RELU, RELU6, LOGISTIC, TANH, HARD_SWISH glue: elementwise int8, one prepare/eval pair each.
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::ReluParams) == 24, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::Relu6Params) == 8, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::SigmoidParams) == 16, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::HardSwishParams) == 24, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

template <typename Params, k::Status (*Prepare)(k::QuantInfo, k::QuantInfo, Params*)>
Status prepare_unary(OpContext& ctx) {
  if (!unary_int8(ctx)) return Status::kBadOpParams;
  auto* params = static_cast<Params*>(ctx.alloc(sizeof(Params)));
  if (!params) return Status::kArenaTooSmall;
  return from(Prepare(quant(*ctx.input(0)), quant(*ctx.output(0)), params));
}

template <typename Params, void (*Eval)(const Params&, int32_t, const int8_t*, int8_t*)>
Status eval_unary(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  Eval(*ctx.data_at<const Params>(0), static_cast<int32_t>(in->elements()), in->data.int8, ctx.output(0)->data.int8);
  return Status::kOk;
}

}  // namespace

Status prepare_relu(OpContext& ctx) { return prepare_unary<k::ReluParams, k::prepare_relu>(ctx); }
Status eval_relu(OpContext& ctx) { return eval_unary<k::ReluParams, k::eval_relu>(ctx); }
Status prepare_relu6(OpContext& ctx) { return prepare_unary<k::Relu6Params, k::prepare_relu6>(ctx); }
Status eval_relu6(OpContext& ctx) { return eval_unary<k::Relu6Params, k::eval_relu6>(ctx); }
Status prepare_logistic(OpContext& ctx) { return prepare_unary<k::SigmoidParams, k::prepare_logistic>(ctx); }
Status eval_logistic(OpContext& ctx) { return eval_unary<k::SigmoidParams, k::eval_logistic>(ctx); }
Status prepare_tanh(OpContext& ctx) { return prepare_unary<k::SigmoidParams, k::prepare_tanh>(ctx); }
Status eval_tanh(OpContext& ctx) { return eval_unary<k::SigmoidParams, k::eval_tanh>(ctx); }
Status prepare_hard_swish(OpContext& ctx) { return prepare_unary<k::HardSwishParams, k::prepare_hard_swish>(ctx); }
Status eval_hard_swish(OpContext& ctx) { return eval_unary<k::HardSwishParams, k::eval_hard_swish>(ctx); }

}  // namespace ops
}  // namespace qbuild
