// MEAN over constant axes of a rank <= 4 int8 tensor; keep_dims only changes the output shape.
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::MeanParams) == 24, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

constexpr int kMaxAxes = 8;

}  // namespace

Status prepare_mean(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* axes = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int8(in) || !is_int8(out) || in->rank > 4) {
    return Status::kBadOpParams;
  }
  if (!axes || !axes->is_constant || axes->type != TensorType::kInt32 || axes->elements() > kMaxAxes) {
    return Status::kBadOpParams;
  }
  auto* params = static_cast<k::MeanParams*>(ctx.alloc(sizeof(k::MeanParams)));
  if (!params) return Status::kArenaTooSmall;
  // A constant int32 tensor: data present, 4-byte aligned (checked at load), elements() values. The kernel checks
  // every axis against the rank (kUnsupportedOptions -> kBadOpParams, as here before).
  const Status s = from(k::prepare_mean(shape4(*in), in->rank, axes->data.i32, static_cast<int32_t>(axes->elements()),
                                        quant(*in), quant(*out), params));
  // num_elements: the product of the reduced dims, each axis counted once.
  if (s == Status::kOk && out->elements() * static_cast<size_t>(params->num_elements) != in->elements()) {
    return Status::kBadOpParams;
  }
  return s;
}

Status eval_mean(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  k::eval_mean(*ctx.data_at<const k::MeanParams>(0), shape4(*in), in->data.int8, ctx.output(0)->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
