// QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

// float input: QuantizeParams; int8 input: RequantizeParams (which one is decided by the input type at eval).
union QuantizeData {
  k::QuantizeParams quantize;
  k::RequantizeParams requantize;
};
static_assert(sizeof(QuantizeData) == 16, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::DequantizeParams) == 8, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

bool same_size_io(const OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  return ctx.input_count() == 1 && ctx.output_count() == 1 && in && out && in->elements() == out->elements();
}

}  // namespace

Status prepare_quantize(OpContext& ctx) {
  if (!same_size_io(ctx) || !is_int8(ctx.output(0))) return Status::kBadOpParams;
  const TensorView* in = ctx.input(0);
  auto* data = static_cast<QuantizeData*>(ctx.alloc(sizeof(QuantizeData)));
  if (!data) return Status::kArenaTooSmall;
  if (in->type == TensorType::kFloat32) return from(k::prepare_quantize(quant(*ctx.output(0)), &data->quantize));
  if (in->type == TensorType::kInt8) {
    return from(k::prepare_requantize(quant(*in), quant(*ctx.output(0)), &data->requantize));
  }
  return Status::kBadOpParams;
}

Status eval_quantize(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const auto& data = *ctx.data_at<const QuantizeData>(0);
  const int32_t n = static_cast<int32_t>(in->elements());
  if (in->type == TensorType::kFloat32) {
    k::eval_quantize(data.quantize, n, in->data.f, ctx.output(0)->data.int8);
  } else {
    k::eval_requantize(data.requantize, n, in->data.int8, ctx.output(0)->data.int8);
  }
  return Status::kOk;
}

Status prepare_dequantize(OpContext& ctx) {
  if (!same_size_io(ctx) || !is_int8(ctx.input(0)) || ctx.output(0)->type != TensorType::kFloat32) {
    return Status::kBadOpParams;
  }
  auto* params = static_cast<k::DequantizeParams*>(ctx.alloc(sizeof(k::DequantizeParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_dequantize(quant(*ctx.input(0)), params));
}

Status eval_dequantize(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  k::eval_dequantize(*ctx.data_at<const k::DequantizeParams>(0), static_cast<int32_t>(in->elements()), in->data.int8,
                     ctx.output(0)->data.f);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
