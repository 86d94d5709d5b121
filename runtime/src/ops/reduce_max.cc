// REDUCE_MAX over constant axes of a rank <= 4 int8 tensor (GlobalMaxPooling); keep_dims only changes the shape.
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::ReduceMaxParams) == 4, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_reduce_max(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* axes = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int8(in) || !is_int8(out) || in->rank > 4 || !axes ||
      !axes->is_constant || axes->type != TensorType::kInt32 || axes->elements() > 8) {
    return Status::kBadOpParams;
  }
  auto* params = static_cast<k::ReduceMaxParams*>(ctx.alloc(sizeof(k::ReduceMaxParams)));
  if (!params) return Status::kArenaTooSmall;
  const Status s = from(k::prepare_reduce_max(shape4(*in), in->rank, axes->data.i32,
                                              static_cast<int32_t>(axes->elements()), quant(*in), quant(*out), params));
  if (s != Status::kOk) return s;
  // The output holds one value per combination of the kept axes.
  const k::Shape4 s4 = shape4(*in);
  const int32_t dims[4] = {s4.n, s4.h, s4.w, s4.c};
  size_t kept = 1;
  for (int i = 0; i < 4; ++i) {
    if (!(params->axis_mask & (1 << i))) kept *= static_cast<size_t>(dims[i]);
  }
  return kept == out->elements() ? Status::kOk : Status::kBadOpParams;
}

Status eval_reduce_max(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  k::eval_reduce_max(*ctx.data_at<const k::ReduceMaxParams>(0), shape4(*in), in->data.int8, ctx.output(0)->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
