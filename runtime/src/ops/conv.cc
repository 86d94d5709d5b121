// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED glue (the weighted window ops): options and per-channel scales from
// the model, shapes checked, one kernel loop (kernels/conv.h) called.
#include <string.h>

#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

// Persistent op data: the kernel params, then (per-channel filters only) int32 multipliers[C] and int8 shifts[C].
// qbuild/tflite/plan.py mirrors these sizes.
static_assert(sizeof(k::ConvParams) == 72, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

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
  // The kernel's prepare bounds strides, dilations and extents (int32 index math cannot overflow) and checks the
  // output size against the padding scheme and the channel relations.
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

// Every weighted op: the params say which. FULLY_CONNECTED (rank-2 filter) runs as a 1x1 conv over the input
// flattened to batches x accum_depth.
Status eval(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::ConvParams>(0);
  const WeightedView v = weighted_view(ctx, p);
  k::eval_conv(p, v.multipliers, v.shifts, v.in, in->data.int8, filter->data.int8, bias ? bias->data.i32 : nullptr,
               v.out, out->data.int8);
  return Status::kOk;
}

}  // namespace

Status prepare_conv_2d(OpContext& ctx) { return prepare(ctx, false); }
Status eval_conv_2d(OpContext& ctx) { return eval(ctx); }
Status prepare_depthwise_conv_2d(OpContext& ctx) { return prepare(ctx, true); }
Status eval_depthwise_conv_2d(OpContext& ctx) { return eval(ctx); }

// The input is flattened to batches x accum_depth (accum_depth = filter dim 1).
Status prepare_fully_connected(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (!weighted_io(ctx, 2)) return Status::kBadOpParams;
  static constexpr OptionField kFields[] = {{schema::fc::kActivation, 0, 0}, {schema::fc::kWeightsFormat, 0, 0}};
  int32_t v[2];
  // Shuffled weights (weights_format != 0) are not supported.
  if (!read_options(ctx, kFields, 2, v) || v[1] != 0) return Status::kBadOpParams;
  const auto act = static_cast<k::Activation>(v[0]);
  const int32_t depth = filter->dims[0], accum = filter->dims[1];
  const size_t batches = in->elements() / static_cast<size_t>(accum);
  if (in->elements() % static_cast<size_t>(accum) != 0 || out->elements() != batches * static_cast<size_t>(depth) ||
      out->rank < 1 || out->dims[out->rank - 1] != depth) {
    return Status::kBadOpParams;
  }
  if (!bias_ok(ctx, depth)) return Status::kBadOpParams;
  WeightQuant w;
  Status qs = weight_quant(ctx, depth, -1, sizeof(k::ConvParams), &w);
  if (qs != Status::kOk) return qs;
  return from(k::prepare_fully_connected(act, static_cast<int32_t>(batches), accum, depth, quant(*in), w.scales,
                                         static_cast<int32_t>(w.count), filter->params.zero_point, quant(*out),
                                         w.multipliers, w.shifts, static_cast<k::ConvParams*>(w.params)));
}

Status eval_fully_connected(OpContext& ctx) { return eval(ctx); }

}  // namespace ops
}  // namespace qbuild
