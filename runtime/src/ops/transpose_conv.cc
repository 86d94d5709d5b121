// TRANSPOSE_CONV glue: inputs (output shape, filter OHWI, input, optional bias), int8 with an int32 scratch buffer
// of one accumulator per output value (TFLM's scratch, planned like an activation live during this op).
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::TransposeConvParams) == 24, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_transpose_conv(OpContext& ctx) {
  const TensorView* filter = ctx.input(1);
  const TensorView* in = ctx.input(2);
  const TensorView* bias = ctx.input_count() > 3 ? ctx.input(3) : nullptr;
  const TensorView* out = ctx.output(0);
  if ((ctx.input_count() != 3 && ctx.input_count() != 4) || ctx.output_count() != 1 || !is_int8(in) ||
      !is_int8(filter) || !is_int8(out) || !filter->is_constant || filter->rank != 4 || in->rank != 4 ||
      out->rank != 4) {
    return Status::kBadOpParams;
  }
  const int32_t channels = out->dims[3];
  if (bias && (bias->type != TensorType::kInt32 || bias->elements() != static_cast<size_t>(channels))) {
    return Status::kBadOpParams;
  }
  namespace o = schema::transpose_conv;
  static constexpr OptionField kFields[] = {
      {o::kPadding, 0, 0}, {o::kStrideH, 1, 0}, {o::kStrideW, 1, 0}, {o::kActivation, 0, 0}};
  int32_t v[4];
  if (!read_options(ctx, kFields, 4, v)) return Status::kBadFlatbuffer;
  // Filter scales straight from the model (input 1), per tensor or one per output channel (dimension 0).
  uint32_t count = 0;
  int32_t qdim = 0;
  const float* scales = ctx.scales(1, &count, &qdim);
  if (!scales || (count > 1 && qdim != 0)) return Status::kBadQuantization;
  auto* params = static_cast<k::TransposeConvParams*>(ctx.alloc(sizeof(k::TransposeConvParams)));
  auto* multipliers = static_cast<int32_t*>(ctx.alloc(4u * channels));
  auto* shifts = static_cast<int8_t*>(ctx.alloc(static_cast<uint32_t>(channels)));
  if (!params || !multipliers || !shifts) return Status::kArenaTooSmall;
  const k::Shape4 out_shape = shape4(*out);
  ctx.scratch_bytes = 4u * static_cast<uint32_t>(out->elements());
  return from(k::prepare_transpose_conv(static_cast<k::Padding>(v[0]), v[1], v[2], static_cast<k::Activation>(v[3]),
                                        shape4(*in), shape4(*filter), out_shape, quant(*in), scales,
                                        static_cast<int32_t>(count), quant(*out), multipliers, shifts, params));
}

Status eval_transpose_conv(OpContext& ctx) {
  const TensorView* filter = ctx.input(1);
  const TensorView* in = ctx.input(2);
  const TensorView* bias = ctx.input_count() > 3 ? ctx.input(3) : nullptr;
  TensorView* out = ctx.output(0);
  const uint32_t channels = static_cast<uint32_t>(out->dims[3]);
  const uint32_t mult_off = align8(sizeof(k::TransposeConvParams));
  const uint32_t shift_off = mult_off + align8(4u * channels);
  k::eval_transpose_conv(*ctx.data_at<const k::TransposeConvParams>(0), ctx.data_at<const int32_t>(mult_off),
                         ctx.data_at<const int8_t>(shift_off), shape4(*in), in->data.int8, shape4(*filter),
                         filter->data.int8, bias ? bias->data.i32 : nullptr, shape4(*out), out->data.int8,
                         reinterpret_cast<int32_t*>(ctx.scratch));
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
