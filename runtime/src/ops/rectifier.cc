// LEAKY_RELU (slope from the options) and PRELU (slope tensor, broadcast) glue, int8.
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::LeakyReluParams) == 24, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::PreluParams) == 28, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_leaky_relu(OpContext& ctx) {
  if (!unary_int8(ctx)) return Status::kBadOpParams;
  const float alpha = ctx.fb->scalar<float>(ctx.options, schema::leaky_relu::kAlpha, 0.0f);
  if (!ctx.fb->ok()) return Status::kBadFlatbuffer;
  auto* params = static_cast<k::LeakyReluParams*>(ctx.alloc(sizeof(k::LeakyReluParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_leaky_relu(alpha, quant(*ctx.input(0)), quant(*ctx.output(0)), params));
}

Status eval_leaky_relu(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  k::eval_leaky_relu(*ctx.data_at<const k::LeakyReluParams>(0), static_cast<int32_t>(in->elements()), in->data.int8,
                     ctx.output(0)->data.int8);
  return Status::kOk;
}

Status prepare_prelu(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* alpha = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int8(in) || !is_int8(alpha) || !is_int8(out) ||
      !same_shape(*in, *out) || in->rank > 4 || alpha->rank > 4) {
    return Status::kBadOpParams;
  }
  const Status s = from(k::check_broadcast(shape4(*in), shape4(*alpha), shape4(*out)));
  if (s != Status::kOk) return s;
  auto* params = static_cast<k::PreluParams*>(ctx.alloc(sizeof(k::PreluParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_prelu(quant(*in), quant(*alpha), quant(*out), params));
}

Status eval_prelu(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* alpha = ctx.input(1);
  k::eval_prelu(*ctx.data_at<const k::PreluParams>(0), shape4(*in), in->data.int8, shape4(*alpha), alpha->data.int8,
                ctx.output(0)->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
