// CONV_2D and DEPTHWISE_CONV_2D glue: options and per-channel scales from the model, shapes checked, kernels called.
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

// Persistent op data: the kernel params, then (per-channel filters only) multipliers[C] and shifts[C].
// qbuild/plan.py mirrors these sizes.
static_assert(sizeof(k::ConvParams) == 56, "update OP_DATA_BYTES in qbuild/plan.py");
constexpr uint32_t kMultipliersOffset = align8(sizeof(k::ConvParams));

Status prepare(OpContext& ctx, bool depthwise) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() < 2 || ctx.input_count() > 3 || ctx.output_count() != 1) return Status::kBadOpParams;
  if (!is_int8(in) || !is_int8(filter) || !is_int8(out) || !filter->is_constant) return Status::kBadOpParams;
  if (in->rank != 4 || filter->rank != 4 || out->rank != 4) return Status::kBadOpParams;
  const int32_t channels = out->dims[3];
  if (bias && (bias->type != TensorType::kInt32 || bias->elements() != static_cast<size_t>(channels))) {
    return Status::kBadOpParams;
  }
  const FbReader& fb = *ctx.fb;
  k::ConvOptions opt;
  if (depthwise) {
    namespace o = schema::dwconv;
    opt.padding = static_cast<k::Padding>(fb.scalar<int8_t>(ctx.options, o::kPadding, 0));
    opt.stride_w = fb.scalar<int32_t>(ctx.options, o::kStrideW, 0);
    opt.stride_h = fb.scalar<int32_t>(ctx.options, o::kStrideH, 0);
    opt.depth_multiplier = fb.scalar<int32_t>(ctx.options, o::kDepthMultiplier, 0);
    opt.activation = static_cast<k::Activation>(fb.scalar<int8_t>(ctx.options, o::kActivation, 0));
    opt.dilation_w = fb.scalar<int32_t>(ctx.options, o::kDilationW, 1);
    opt.dilation_h = fb.scalar<int32_t>(ctx.options, o::kDilationH, 1);
  } else {
    namespace o = schema::conv;
    opt.padding = static_cast<k::Padding>(fb.scalar<int8_t>(ctx.options, o::kPadding, 0));
    opt.stride_w = fb.scalar<int32_t>(ctx.options, o::kStrideW, 0);
    opt.stride_h = fb.scalar<int32_t>(ctx.options, o::kStrideH, 0);
    opt.activation = static_cast<k::Activation>(fb.scalar<int8_t>(ctx.options, o::kActivation, 0));
    opt.dilation_w = fb.scalar<int32_t>(ctx.options, o::kDilationW, 1);
    opt.dilation_h = fb.scalar<int32_t>(ctx.options, o::kDilationH, 1);
    opt.depth_multiplier = 0;
  }
  if (!fb.ok()) return Status::kBadFlatbuffer;
  if (!sane_window(in->dims[1], filter->dims[1], opt.stride_h, opt.dilation_h) ||
      !sane_window(in->dims[2], filter->dims[2], opt.stride_w, opt.dilation_w)) {
    return Status::kBadOpParams;
  }
  // The kernel's prepare checks the output size against the padding scheme and the channel relations.
  uint32_t num_scales;
  int32_t qdim;
  const float* scales = ctx.scales(1, &num_scales, &qdim);
  if (!scales || (num_scales != 1 && num_scales != static_cast<uint32_t>(channels))) return Status::kBadQuantization;
  if (num_scales > 1 && qdim != (depthwise ? 3 : 0)) return Status::kBadQuantization;

  auto* params = static_cast<k::ConvParams*>(ctx.alloc(sizeof(k::ConvParams)));
  int32_t* multipliers = nullptr;
  int32_t* shifts = nullptr;
  if (num_scales > 1) {
    multipliers = static_cast<int32_t*>(ctx.alloc(4u * channels));
    shifts = static_cast<int32_t*>(ctx.alloc(4u * channels));
  }
  if (!params || (num_scales > 1 && (!multipliers || !shifts))) return Status::kArenaTooSmall;
  const k::QuantInfo in_q{in->params.scale, in->params.zero_point};
  const k::QuantInfo out_q{out->params.scale, out->params.zero_point};
  const auto prep = depthwise ? k::prepare_depthwise_conv : k::prepare_conv;
  k::Status s = prep(opt, shape4(*in), shape4(*filter), shape4(*out), in_q, scales, static_cast<int32_t>(num_scales),
                     out_q, multipliers, shifts, params);
  return from_kernel(static_cast<int32_t>(s));
}

Status eval(OpContext& ctx, bool depthwise) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::ConvParams>(0);
  const int32_t* multipliers = nullptr;
  const int32_t* shifts = nullptr;
  if (p.per_channel) {
    multipliers = ctx.data_at<const int32_t>(kMultipliersOffset);
    shifts = ctx.data_at<const int32_t>(kMultipliersOffset + align8(4u * out->dims[3]));
  }
  const auto run = depthwise ? k::eval_depthwise_conv : k::eval_conv;
  run(p, multipliers, shifts, shape4(*in), in->data.int8, shape4(*filter), filter->data.int8,
      bias ? bias->data.i32 : nullptr, shape4(*out), out->data.int8);
  return Status::kOk;
}

}  // namespace

Status prepare_conv_2d(OpContext& ctx) { return prepare(ctx, false); }
Status eval_conv_2d(OpContext& ctx) { return eval(ctx, false); }
Status prepare_depthwise_conv_2d(OpContext& ctx) { return prepare(ctx, true); }
Status eval_depthwise_conv_2d(OpContext& ctx) { return eval(ctx, true); }

}  // namespace ops
}  // namespace qbuild
