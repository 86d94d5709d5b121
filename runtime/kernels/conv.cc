#include "conv.h"

namespace qbuild {
namespace kernels {

int32_t conv_output_size(Padding padding, int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation) {
  if (stride < 1 || dilation < 1 || filter_size < 1 || in_size < 1) return -1;
  const int32_t effective = (filter_size - 1) * dilation + 1;
  int32_t out = -1;
  if (padding == Padding::kSame) out = (in_size + stride - 1) / stride;
  if (padding == Padding::kValid) out = (in_size + stride - effective) / stride;
  return out > 0 ? out : -1;
}

namespace {

// TFLite's ComputePaddingWithOffset: the top/left half of the total padding (the odd pixel goes bottom/right).
int32_t leading_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size, int32_t out_size) {
  const int32_t effective = (filter_size - 1) * dilation + 1;
  const int32_t total = (out_size - 1) * stride + effective - in_size;
  return total > 0 ? total / 2 : 0;
}

// Shared part of both convs: options, spatial shapes, padding, zero points, activation, multipliers.
Status prepare_common(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                      QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales,
                      QuantInfo output_q, int32_t* multipliers, int32_t* shifts, ConvParams* p) {
  if (opt.padding != Padding::kSame && opt.padding != Padding::kValid) return Status::kUnsupportedPadding;
  if (opt.stride_h < 1 || opt.stride_w < 1 || opt.dilation_h < 1 || opt.dilation_w < 1) {
    return Status::kUnsupportedOptions;
  }
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (input.n != output.n || output.c < 1) return Status::kBadShape;
  if (conv_output_size(opt.padding, input.h, filter.h, opt.stride_h, opt.dilation_h) != output.h ||
      conv_output_size(opt.padding, input.w, filter.w, opt.stride_w, opt.dilation_w) != output.w) {
    return Status::kBadShape;
  }
  if (filter_scales == nullptr || (num_filter_scales != 1 && num_filter_scales != output.c)) {
    return Status::kBadQuantization;
  }
  const bool per_channel = num_filter_scales > 1;
  if (per_channel && (multipliers == nullptr || shifts == nullptr)) return Status::kBadQuantization;

  ConvParams r{};
  r.stride_h = opt.stride_h;
  r.stride_w = opt.stride_w;
  r.dilation_h = opt.dilation_h;
  r.dilation_w = opt.dilation_w;
  r.pad_h = leading_padding(opt.stride_h, opt.dilation_h, input.h, filter.h, output.h);
  r.pad_w = leading_padding(opt.stride_w, opt.dilation_w, input.w, filter.w, output.w);
  r.input_offset = -input_q.zero_point;
  r.output_offset = output_q.zero_point;
  const Status s = activation_range(opt.activation, output_q, &r.act_min, &r.act_max);
  if (s != Status::kOk) return s;
  r.per_channel = per_channel ? 1 : 0;
  // TFLite's PopulateConvolutionQuantizationParams: per channel, in double from the float scales.
  for (int32_t i = 0; i < num_filter_scales; ++i) {
    const float fs = filter_scales[i];
    if (!(fs >= 0.0f && fs <= 3.4e38f)) return Status::kBadQuantization;
    const double effective = static_cast<double>(input_q.scale) * static_cast<double>(fs) /
                             static_cast<double>(output_q.scale);
    int32_t m = 0;
    int32_t sh = 0;
    quantize_multiplier(effective, &m, &sh);
    if (sh > 30) return Status::kBadQuantization;
    if (per_channel) {
      multipliers[i] = m;
      shifts[i] = sh;
    } else {
      r.output_multiplier = m;
      r.output_shift = sh;
    }
  }
  *p = r;
  return Status::kOk;
}

inline int32_t requantize(int32_t acc, const ConvParams& p, const int32_t* multipliers, const int32_t* shifts,
                          int32_t oc) {
  const int32_t m = p.per_channel ? multipliers[oc] : p.output_multiplier;
  const int32_t s = p.per_channel ? shifts[oc] : p.output_shift;
  return clamp_i32(multiply_by_quantized_multiplier(acc, m, s) + p.output_offset, p.act_min, p.act_max);
}

}  // namespace

Status prepare_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                    QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                    int32_t* multipliers, int32_t* shifts, ConvParams* params) {
  if (filter.c < 1 || input.c % filter.c != 0 || filter.n != output.c) return Status::kBadShape;
  const int32_t groups = input.c / filter.c;
  if (output.c % groups != 0) return Status::kBadShape;
  Status s = prepare_common(opt, input, filter, output, input_q, filter_scales, num_filter_scales, output_q,
                            multipliers, shifts, params);
  if (s == Status::kOk) params->depth_multiplier = 1;
  return s;
}

void eval_conv(const ConvParams& p, const int32_t* multipliers, const int32_t* shifts, const Shape4& input,
               const int8_t* input_data, const Shape4& filter, const int8_t* filter_data, const int32_t* bias,
               const Shape4& output, int8_t* output_data) {
  const int32_t in_c = input.c;
  const int32_t f_c = filter.c;
  const int32_t filters_per_group = output.c / (in_c / f_c);
  const int32_t input_offset = p.input_offset;
  int8_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        for (int32_t oc = 0; oc < output.c; ++oc) {
          const int32_t group_offset = (oc / filters_per_group) * f_c;
          const int8_t* f_oc = filter_data + oc * filter.h * filter.w * f_c;
          int32_t acc = 0;
          for (int32_t fy = 0; fy < filter.h; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            if (iy < 0 || iy >= input.h) continue;  // padding contributes nothing (value == zero point)
            for (int32_t fx = 0; fx < filter.w; ++fx) {
              const int32_t ix = ix0 + fx * p.dilation_w;
              if (ix < 0 || ix >= input.w) continue;
              const int8_t* in_px = in_batch + (iy * input.w + ix) * in_c + group_offset;
              const int8_t* f_px = f_oc + (fy * filter.w + fx) * f_c;
              for (int32_t ic = 0; ic < f_c; ++ic) {
                acc += static_cast<int32_t>(f_px[ic]) * (static_cast<int32_t>(in_px[ic]) + input_offset);
              }
            }
          }
          if (bias != nullptr) acc += bias[oc];
          *out++ = static_cast<int8_t>(requantize(acc, p, multipliers, shifts, oc));
        }
      }
    }
  }
}

Status prepare_depthwise_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter,
                              const Shape4& output, QuantInfo input_q, const float* filter_scales,
                              int32_t num_filter_scales, QuantInfo output_q, int32_t* multipliers,
                              int32_t* shifts, ConvParams* params) {
  if (input.c < 1 || filter.n != 1 || filter.c != output.c || output.c % input.c != 0) return Status::kBadShape;
  const int32_t multiplier = output.c / input.c;
  if (opt.depth_multiplier != 0 && opt.depth_multiplier != multiplier) return Status::kBadShape;
  Status s = prepare_common(opt, input, filter, output, input_q, filter_scales, num_filter_scales, output_q,
                            multipliers, shifts, params);
  if (s == Status::kOk) params->depth_multiplier = multiplier;
  return s;
}

void eval_depthwise_conv(const ConvParams& p, const int32_t* multipliers, const int32_t* shifts,
                         const Shape4& input, const int8_t* input_data, const Shape4& filter,
                         const int8_t* filter_data, const int32_t* bias, const Shape4& output,
                         int8_t* output_data) {
  const int32_t in_c = input.c;
  const int32_t out_c = output.c;
  const int32_t mult = p.depth_multiplier;
  const int32_t input_offset = p.input_offset;
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int8_t* out_px = output_data + ((b * output.h + oy) * output.w + ox) * out_c;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const int32_t ic = oc / mult;
          int32_t acc = 0;
          for (int32_t fy = 0; fy < filter.h; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            if (iy < 0 || iy >= input.h) continue;
            const int8_t* in_row = in_batch + iy * input.w * in_c + ic;
            const int8_t* f_row = filter_data + fy * filter.w * out_c + oc;
            for (int32_t fx = 0; fx < filter.w; ++fx) {
              const int32_t ix = ix0 + fx * p.dilation_w;
              if (ix < 0 || ix >= input.w) continue;
              acc += static_cast<int32_t>(f_row[fx * out_c]) * (static_cast<int32_t>(in_row[ix * in_c]) + input_offset);
            }
          }
          if (bias != nullptr) acc += bias[oc];
          out_px[oc] = static_cast<int8_t>(requantize(acc, p, multipliers, shifts, oc));
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
