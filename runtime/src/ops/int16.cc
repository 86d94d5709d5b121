// 16x8 glue: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, SOFTMAX, QUANTIZE
// (float32 -> int16) and DEQUANTIZE (int16 -> float32) on int16 activations, and the *_any entry points that pick
// this glue or the int8 one. Op data has the int8 ops' sizes, so qbuild/tflite/plan.py plans both types alike.
#include <string.h>

#include "../../kernels/int16.h"
#include "../../kernels/pooling.h"
#include "glue.h"
#include "int16.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::Softmax16Params) == 12, "SOFTMAX op data: update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::QuantizeParams) <= 16, "QUANTIZE op data: update OP_DATA_BYTES in qbuild/tflite/plan.py");

enum Weighted { kConv, kDepthwise, kFullyConnected };

// Bias: absent, int32 or int64 with `channels` values; DEPTHWISE_CONV_2D reads only int64 (as TFLM).
bool bias16_ok(const OpContext& ctx, int32_t channels, bool depthwise) {
  const TensorView* bias = ctx.input(2);
  if (!bias) return true;
  const bool type_ok = bias->type == TensorType::kInt64 || (!depthwise && bias->type == TensorType::kInt32);
  return type_ok && bias->elements() == static_cast<size_t>(channels);
}

Status prepare_weighted16(OpContext& ctx, Weighted kind) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* out = ctx.output(0);
  const bool fc = kind == kFullyConnected;
  if (ctx.input_count() < 2 || ctx.input_count() > 3 || ctx.output_count() != 1 || !is_int16(in) || !is_int16(out) ||
      !is_int8(filter) || !filter->is_constant || filter->rank != (fc ? 2 : 4) || (!fc && (in->rank != 4 || out->rank != 4))) {
    return Status::kBadOpParams;
  }
  WeightQuant w;
  k::Status s;
  k::Activation act;
  int32_t channels;
  if (fc) {
    static constexpr OptionField kFields[] = {{schema::fc::kActivation, 0, 0}, {schema::fc::kWeightsFormat, 0, 0}};
    int32_t v[2];
    if (!read_options(ctx, kFields, 2, v) || v[1] != 0) return Status::kBadOpParams;
    act = static_cast<k::Activation>(v[0]);
    channels = filter->dims[0];
    const int32_t accum = filter->dims[1];
    const size_t batches = in->elements() / static_cast<size_t>(accum);
    if (in->elements() % static_cast<size_t>(accum) != 0 || out->elements() != batches * static_cast<size_t>(channels) ||
        out->rank < 1 || out->dims[out->rank - 1] != channels || !bias16_ok(ctx, channels, false)) {
      return Status::kBadOpParams;
    }
    Status qs = weight_quant(ctx, channels, -1, sizeof(k::ConvParams), &w);
    if (qs != Status::kOk) return qs;
    s = k::prepare_fully_connected(act, static_cast<int32_t>(batches), accum, channels, quant(*in), w.scales,
                                   static_cast<int32_t>(w.count), filter->params.zero_point, quant(*out),
                                   w.multipliers, w.shifts, static_cast<k::ConvParams*>(w.params));
  } else {
    const bool dw = kind == kDepthwise;
    channels = out->dims[3];
    if (!bias16_ok(ctx, channels, dw)) return Status::kBadOpParams;
    static constexpr OptionField kConvFields[] = {
        {schema::conv::kPadding, 0, 0},   {schema::conv::kStrideH, 1, 0},   {schema::conv::kStrideW, 1, 0},
        {schema::conv::kDilationH, 1, 1}, {schema::conv::kDilationW, 1, 1}, {schema::conv::kActivation, 0, 0}};
    static constexpr OptionField kDepthwiseFields[] = {
        {schema::dwconv::kPadding, 0, 0},   {schema::dwconv::kStrideH, 1, 0},   {schema::dwconv::kStrideW, 1, 0},
        {schema::dwconv::kDilationH, 1, 1}, {schema::dwconv::kDilationW, 1, 1}, {schema::dwconv::kActivation, 0, 0},
        {schema::dwconv::kDepthMultiplier, 1, 0}};
    int32_t v[7] = {};
    if (!read_options(ctx, dw ? kDepthwiseFields : kConvFields, dw ? 7 : 6, v)) return Status::kBadFlatbuffer;
    k::ConvOptions opt;
    memcpy(&opt, v, sizeof(opt));
    act = opt.activation;
    Status qs = weight_quant(ctx, channels, dw ? 3 : 0, sizeof(k::ConvParams), &w);
    if (qs != Status::kOk) return qs;
    const auto prep = dw ? k::prepare_depthwise_conv : k::prepare_conv;
    s = prep(opt, shape4(*in), shape4(*filter), shape4(*out), quant(*in), w.scales, static_cast<int32_t>(w.count),
             quant(*out), w.multipliers, w.shifts, static_cast<k::ConvParams*>(w.params));
  }
  if (s != k::Status::kOk) return from(s);
  return from(k::to_int16(act, quant(*in), quant(*out), w.shifts, channels, static_cast<k::ConvParams*>(w.params)));
}

Status eval_weighted16(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::ConvParams>(0);
  const WeightedView v = weighted_view(ctx, p);
  const bool bias64 = bias && bias->type == TensorType::kInt64;
  const bool wide = bias64 || filter->rank == 2 || p.kind == k::WindowKind::kDepthwise;
  k::eval_conv16(p, v.multipliers, v.shifts, v.in, in->data.i16, filter->data.int8,
                 bias && !bias64 ? bias->data.i32 : nullptr, bias64 ? bias->data.i64 : nullptr,
                 wide ? k::Accumulator::kInt64 : k::Accumulator::kInt32, v.out, out->data.i16);
  return Status::kOk;
}

Status prepare_pool16(OpContext& ctx, k::WindowKind kind) {
  k::PoolOptions opt;
  k::ConvParams* params = nullptr;
  const Status s = pool_setup(ctx, kind, TensorType::kInt16, &opt, &params);
  if (s != Status::kOk) return s;
  return from(k::to_int16(opt.activation, quant(*ctx.input(0)), quant(*ctx.output(0)), nullptr, 0, params));
}

Status prepare_mean16(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* axes = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int16(in) || !is_int16(out) || in->rank > 4 ||
      in->params.zero_point != 0 || out->params.zero_point != 0) {
    return Status::kBadOpParams;
  }
  if (!axes || !axes->is_constant || axes->type != TensorType::kInt32 || axes->elements() > 8) return Status::kBadOpParams;
  auto* params = static_cast<k::MeanParams*>(ctx.alloc(sizeof(k::MeanParams)));
  if (!params) return Status::kArenaTooSmall;
  const Status s = from(k::prepare_mean(shape4(*in), in->rank, axes->data.i32, static_cast<int32_t>(axes->elements()),
                                        quant(*in), quant(*out), params));
  if (s == Status::kOk && out->elements() * static_cast<size_t>(params->num_elements) != in->elements()) {
    return Status::kBadOpParams;
  }
  return s;
}

Status prepare_softmax16(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 1 || ctx.output_count() != 1 || !is_int16(in) || !is_int16(out) || !same_shape(*in, *out) ||
      in->rank < 1) {
    return Status::kBadOpParams;
  }
  const float beta = ctx.fb->scalar<float>(ctx.options, schema::softmax::kBeta, 1.0f);
  auto* params = static_cast<k::Softmax16Params*>(ctx.alloc(sizeof(k::Softmax16Params)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_softmax16(beta, quant(*in), quant(*out), params));
}

bool same_size_io(const OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  return ctx.input_count() == 1 && ctx.output_count() == 1 && in && out && in->elements() == out->elements();
}

}  // namespace

Status prepare_conv_2d_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_weighted16(ctx, kConv) : prepare_conv_2d(ctx);
}
Status eval_conv_2d_any(OpContext& ctx) { return is_int16(ctx.input(0)) ? eval_weighted16(ctx) : eval_conv_2d(ctx); }
Status prepare_depthwise_conv_2d_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_weighted16(ctx, kDepthwise) : prepare_depthwise_conv_2d(ctx);
}
Status eval_depthwise_conv_2d_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? eval_weighted16(ctx) : eval_depthwise_conv_2d(ctx);
}
Status prepare_fully_connected_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_weighted16(ctx, kFullyConnected) : prepare_fully_connected(ctx);
}
Status eval_fully_connected_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? eval_weighted16(ctx) : eval_fully_connected(ctx);
}

Status prepare_average_pool_2d_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_pool16(ctx, k::WindowKind::kAveragePool) : prepare_average_pool_2d(ctx);
}
Status eval_average_pool_2d_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return eval_average_pool_2d(ctx);
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  k::eval_conv16(*ctx.data_at<const k::ConvParams>(0), nullptr, nullptr, shape4(*in), in->data.i16, nullptr, nullptr,
                 nullptr, k::Accumulator::kInt32, shape4(*out), out->data.i16);
  return Status::kOk;
}
Status prepare_max_pool_2d_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_pool16(ctx, k::WindowKind::kMaxPool) : prepare_max_pool_2d(ctx);
}
Status eval_max_pool_2d_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return eval_max_pool_2d(ctx);
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  k::eval_max_pool16(*ctx.data_at<const k::ConvParams>(0), shape4(*in), in->data.i16, shape4(*out), out->data.i16);
  return Status::kOk;
}

Status prepare_mean_any(OpContext& ctx) { return is_int16(ctx.input(0)) ? prepare_mean16(ctx) : prepare_mean(ctx); }
Status eval_mean_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return eval_mean(ctx);
  const TensorView* in = ctx.input(0);
  k::eval_mean16(*ctx.data_at<const k::MeanParams>(0), shape4(*in), in->data.i16, ctx.output(0)->data.i16);
  return Status::kOk;
}

Status prepare_softmax_any(OpContext& ctx) {
  return is_int16(ctx.input(0)) ? prepare_softmax16(ctx) : prepare_softmax(ctx);
}
Status eval_softmax_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return eval_softmax(ctx);
  const TensorView* in = ctx.input(0);
  const int32_t depth = in->dims[in->rank - 1];
  const int32_t outer = static_cast<int32_t>(in->elements() / static_cast<size_t>(depth));
  k::eval_softmax16(*ctx.data_at<const k::Softmax16Params>(0), outer, depth, in->data.i16, ctx.output(0)->data.i16);
  return Status::kOk;
}

// QUANTIZE float32 -> int16 (16 bytes of op data, as the int8 QUANTIZE allocates).
Status prepare_quantize_any(OpContext& ctx) {
  if (!is_int16(ctx.output(0))) return prepare_quantize(ctx);
  if (!same_size_io(ctx) || ctx.input(0)->type != TensorType::kFloat32 || ctx.output(0)->params.zero_point != 0) {
    return Status::kBadOpParams;
  }
  auto* params = static_cast<k::QuantizeParams*>(ctx.alloc(16));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_quantize(quant(*ctx.output(0)), params));
}
Status eval_quantize_any(OpContext& ctx) {
  if (!is_int16(ctx.output(0))) return eval_quantize(ctx);
  const TensorView* in = ctx.input(0);
  k::eval_quantize16(*ctx.data_at<const k::QuantizeParams>(0), static_cast<int32_t>(in->elements()), in->data.f,
                     ctx.output(0)->data.i16);
  return Status::kOk;
}

Status prepare_dequantize_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return prepare_dequantize(ctx);
  if (!same_size_io(ctx) || ctx.output(0)->type != TensorType::kFloat32) return Status::kBadOpParams;
  auto* params = static_cast<k::DequantizeParams*>(ctx.alloc(sizeof(k::DequantizeParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_dequantize(quant(*ctx.input(0)), params));
}
Status eval_dequantize_any(OpContext& ctx) {
  if (!is_int16(ctx.input(0))) return eval_dequantize(ctx);
  const TensorView* in = ctx.input(0);
  k::eval_dequantize16(*ctx.data_at<const k::DequantizeParams>(0), static_cast<int32_t>(in->elements()), in->data.i16,
                       ctx.output(0)->data.f);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
