// CONV_2D and DEPTHWISE_CONV_2D glue: options and per-channel scales from the model, shapes checked, kernels called.
#include <string.h>

#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

// Persistent op data: the kernel params, then (per-channel filters only) multipliers[C] and shifts[C].
// qbuild/plan.py mirrors these sizes.
static_assert(sizeof(k::ConvParams) == 72, "update OP_DATA_BYTES in qbuild/plan.py");
constexpr uint32_t kMultipliersOffset = align8(sizeof(k::ConvParams));

Status prepare(OpContext& ctx, bool depthwise) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (!weighted_io(ctx, 4) || in->rank != 4 || out->rank != 4) return Status::kBadOpParams;
  const int32_t channels = out->dims[3];
  if (!bias_ok(ctx, channels)) return Status::kBadOpParams;
  // Both option tables, in ConvOptions order: padding, stride h/w, dilation h/w, activation, depth multiplier.
  static constexpr OptionField kConvFields[] = {
      {schema::conv::kPadding, 0, 0},    {schema::conv::kStrideH, 1, 0},   {schema::conv::kStrideW, 1, 0},
      {schema::conv::kDilationH, 1, 1},  {schema::conv::kDilationW, 1, 1}, {schema::conv::kActivation, 0, 0}};
  static constexpr OptionField kDepthwiseFields[] = {
      {schema::dwconv::kPadding, 0, 0},   {schema::dwconv::kStrideH, 1, 0},    {schema::dwconv::kStrideW, 1, 0},
      {schema::dwconv::kDilationH, 1, 1}, {schema::dwconv::kDilationW, 1, 1},  {schema::dwconv::kActivation, 0, 0},
      {schema::dwconv::kDepthMultiplier, 1, 0}};
  static_assert(sizeof(k::ConvOptions) == 7 * sizeof(int32_t), "ConvOptions is read as 7 int32 fields");
  int32_t v[7] = {};  // conv: depth_multiplier stays 0
  if (!read_options(ctx, depthwise ? kDepthwiseFields : kConvFields, depthwise ? 7 : 6, v)) {
    return Status::kBadFlatbuffer;
  }
  k::ConvOptions opt;
  memcpy(&opt, v, sizeof(opt));
  if (!sane_window(in->dims[1], filter->dims[1], opt.stride_h, opt.dilation_h) ||
      !sane_window(in->dims[2], filter->dims[2], opt.stride_w, opt.dilation_w)) {
    return Status::kBadOpParams;
  }
  // The kernel's prepare checks the output size against the padding scheme and the channel relations.
  WeightQuant w;
  Status qs = weight_quant(ctx, channels, depthwise ? 3 : 0, sizeof(k::ConvParams), &w);
  if (qs != Status::kOk) return qs;
  const k::QuantInfo in_q{in->params.scale, in->params.zero_point};
  const k::QuantInfo out_q{out->params.scale, out->params.zero_point};
  const auto prep = depthwise ? k::prepare_depthwise_conv : k::prepare_conv;
  k::Status s = prep(opt, shape4(*in), shape4(*filter), shape4(*out), in_q, w.scales, static_cast<int32_t>(w.count),
                     out_q, w.multipliers, w.shifts, static_cast<k::ConvParams*>(w.params));
  return from_kernel(static_cast<int32_t>(s));
}

// Both convs: the params say which (one kernel loop).
Status eval(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::ConvParams>(0);
  const int32_t* multipliers = nullptr;
  const int32_t* shifts = nullptr;
  if (p.per_channel) {
    multipliers = ctx.data_at<const int32_t>(kMultipliersOffset);
    shifts = ctx.data_at<const int32_t>(kMultipliersOffset + align8(4u * out->dims[3]));
  }
  k::eval_conv(p, multipliers, shifts, shape4(*in), in->data.int8, ctx.input(1)->data.int8,
               bias ? bias->data.i32 : nullptr, shape4(*out), out->data.int8);
  return Status::kOk;
}

}  // namespace

Status prepare_conv_2d(OpContext& ctx) { return prepare(ctx, false); }
Status eval_conv_2d(OpContext& ctx) { return eval(ctx); }
Status prepare_depthwise_conv_2d(OpContext& ctx) { return prepare(ctx, true); }
Status eval_depthwise_conv_2d(OpContext& ctx) { return eval(ctx); }

}  // namespace ops
}  // namespace qbuild
