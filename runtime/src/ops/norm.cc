// LayerNormalization's ops: SQUARED_DIFFERENCE and RSQRT (int8) and NEG (float32, which the converter leaves in
// float between the int8 ops of a LayerNormalization even with TFLITE_BUILTINS_INT8).
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::SquaredDifferenceParams) == 36, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::RsqrtParams) == 16, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_squared_difference(OpContext& ctx) {
  const Status s = broadcast_io(ctx, TensorType::kInt8);
  if (s != Status::kOk) return s;
  auto* params = static_cast<k::SquaredDifferenceParams*>(ctx.alloc(sizeof(k::SquaredDifferenceParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_squared_difference(quant(*ctx.input(0)), quant(*ctx.input(1)), quant(*ctx.output(0)), params));
}

Status eval_squared_difference(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  k::eval_squared_difference(*ctx.data_at<const k::SquaredDifferenceParams>(0), shape4(*a), a->data.int8, shape4(*b),
                             b->data.int8, shape4(*out), out->data.int8);
  return Status::kOk;
}

Status prepare_rsqrt(OpContext& ctx) {
  if (!unary_int8(ctx)) return Status::kBadOpParams;
  auto* params = static_cast<k::RsqrtParams*>(ctx.alloc(sizeof(k::RsqrtParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_rsqrt(quant(*ctx.input(0)), quant(*ctx.output(0)), params));
}

Status eval_rsqrt(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  // A value below the input zero point (a negative real) fails the invoke, as in TFLM.
  return k::eval_rsqrt(*ctx.data_at<const k::RsqrtParams>(0), static_cast<int32_t>(in->elements()), in->data.int8,
                       ctx.output(0)->data.int8)
             ? Status::kOk
             : Status::kEvalFailed;
}

Status prepare_neg(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 1 || ctx.output_count() != 1 || !in || !out || in->type != TensorType::kFloat32 ||
      out->type != TensorType::kFloat32 || !same_shape(*in, *out)) {
    return Status::kBadOpParams;
  }
  return Status::kOk;
}

Status eval_neg(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  float* out = ctx.output(0)->data.f;
  const size_t n = in->elements();
  for (size_t i = 0; i < n; ++i) out[i] = -in->data.f[i];
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
