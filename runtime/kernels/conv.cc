#include "conv.h"

namespace qbuild {
namespace kernels {

int32_t conv_output_size(Padding padding, int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation) {
  // In int64 and bounded, so absurd options from a malformed model cannot overflow.
  if (stride < 1 || dilation < 1 || filter_size < 1 || in_size < 1) return -1;
  const int64_t effective = static_cast<int64_t>(filter_size - 1) * dilation + 1;
  if (effective > (1 << 24) || stride > (1 << 24) || in_size > (1 << 24)) return -1;
  // Every term is now within 2^24, so int32 is exact (and keeps 64-bit division helpers out of 32-bit images).
  int32_t out = -1;
  if (padding == Padding::kSame) out = (in_size + stride - 1) / stride;
  if (padding == Padding::kValid) out = (in_size + stride - static_cast<int32_t>(effective)) / stride;
  return out > 0 ? out : -1;
}

int32_t leading_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size, int32_t out_size) {
  const int64_t effective = static_cast<int64_t>(filter_size - 1) * dilation + 1;
  const int64_t total = static_cast<int64_t>(out_size - 1) * stride + effective - in_size;
  return total > 0 ? static_cast<int32_t>(total / 2) : 0;
}

namespace {

// Shared part of both convs: options, spatial shapes, padding, zero points, activation, multipliers.
Status prepare_common(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                      QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales,
                      QuantInfo output_q, int32_t* multipliers, int32_t* shifts, ConvParams* p) {
  if (opt.padding != Padding::kSame && opt.padding != Padding::kValid) return Status::kUnsupportedPadding;
  if (opt.stride_h < 1 || opt.stride_w < 1 || opt.dilation_h < 1 || opt.dilation_w < 1) {
    return Status::kUnsupportedOptions;
  }
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (!sane_shape(input) || !sane_shape(filter) || !sane_shape(output) || input.n != output.n) {
    return Status::kBadShape;
  }
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
  const Status ms = filter_multipliers(input_q.scale, filter_scales, num_filter_scales, output_q.scale, multipliers,
                                       shifts, &r.output_multiplier, &r.output_shift);
  if (ms != Status::kOk) return ms;
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

namespace {

// First and one-past-last filter tap whose input row/column lies inside [0, size) (dilation-aware), so the
// inner loops need no bounds checks. Taps outside contribute nothing (they would read the zero point).
inline void valid_taps(int32_t origin, int32_t dilation, int32_t filter_size, int32_t size, int32_t* start,
                       int32_t* end) {
  int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  int32_t e = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  if (e > filter_size) e = filter_size;
  if (s > e) s = e;
  *start = s;
  *end = e;
}

}  // namespace

void eval_conv(const ConvParams& p, const int32_t* multipliers, const int32_t* shifts, const Shape4& input,
               const int8_t* input_data, const Shape4& filter, const int8_t* filter_data, const int32_t* bias,
               const Shape4& output, int8_t* output_data) {
  const int32_t in_c = input.c;
  const int32_t f_c = filter.c;
  const int32_t groups = in_c / f_c;
  const int32_t filters_per_group = output.c / groups;
  const int32_t filter_stride = filter.h * filter.w * f_c;  // bytes per output channel
  const int32_t input_offset = p.input_offset;
  // Four output channels at a time share each input load (and its offset add); groups == 1 only, so the four
  // filters read the same input channels.
  const int32_t blocked_end = (QBUILD_KERNELS_UNROLL && groups == 1) ? output.c - output.c % 4 : 0;
  int8_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy_start, fy_end;
      valid_taps(iy0, p.dilation_h, filter.h, input.h, &fy_start, &fy_end);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx_start, fx_end;
        valid_taps(ix0, p.dilation_w, filter.w, input.w, &fx_start, &fx_end);
        int32_t oc = 0;
        for (; oc < blocked_end; oc += 4) {
          const int8_t* f0 = filter_data + oc * filter_stride;
          const int8_t* f1 = f0 + filter_stride;
          const int8_t* f2 = f1 + filter_stride;
          const int8_t* f3 = f2 + filter_stride;
          int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* in_px = in_batch + (iy * input.w + ix0 + fx * p.dilation_w) * in_c;
              const int32_t tap = (fy * filter.w + fx) * f_c;
              for (int32_t ic = 0; ic < f_c; ++ic) {
                const int32_t x = static_cast<int32_t>(in_px[ic]) + input_offset;
                a0 += static_cast<int32_t>(f0[tap + ic]) * x;
                a1 += static_cast<int32_t>(f1[tap + ic]) * x;
                a2 += static_cast<int32_t>(f2[tap + ic]) * x;
                a3 += static_cast<int32_t>(f3[tap + ic]) * x;
              }
            }
          }
          if (bias != nullptr) {
            a0 = add_wrap(a0, bias[oc]);
            a1 = add_wrap(a1, bias[oc + 1]);
            a2 = add_wrap(a2, bias[oc + 2]);
            a3 = add_wrap(a3, bias[oc + 3]);
          }
          out[oc] = static_cast<int8_t>(requantize(a0, p, multipliers, shifts, oc));
          out[oc + 1] = static_cast<int8_t>(requantize(a1, p, multipliers, shifts, oc + 1));
          out[oc + 2] = static_cast<int8_t>(requantize(a2, p, multipliers, shifts, oc + 2));
          out[oc + 3] = static_cast<int8_t>(requantize(a3, p, multipliers, shifts, oc + 3));
        }
        for (; oc < output.c; ++oc) {
          const int32_t group_offset = (oc / filters_per_group) * f_c;
          const int8_t* f_oc = filter_data + oc * filter_stride;
          int32_t acc = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* in_px = in_batch + (iy * input.w + ix0 + fx * p.dilation_w) * in_c + group_offset;
              const int8_t* f_px = f_oc + (fy * filter.w + fx) * f_c;
              for (int32_t ic = 0; ic < f_c; ++ic) {
                acc += static_cast<int32_t>(f_px[ic]) * (static_cast<int32_t>(in_px[ic]) + input_offset);
              }
            }
          }
          if (bias != nullptr) acc = add_wrap(acc, bias[oc]);
          out[oc] = static_cast<int8_t>(requantize(acc, p, multipliers, shifts, oc));
        }
        out += output.c;
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
  // Channels are processed in chunks with one accumulator each, so the innermost loop runs over contiguous
  // channels of one tap (input and filter both channel-minor).
  constexpr int32_t kChunk = 32;
  int32_t acc[kChunk];
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy_start, fy_end;
      valid_taps(iy0, p.dilation_h, filter.h, input.h, &fy_start, &fy_end);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx_start, fx_end;
        valid_taps(ix0, p.dilation_w, filter.w, input.w, &fx_start, &fx_end);
        int8_t* out_px = output_data + ((b * output.h + oy) * output.w + ox) * out_c;
        for (int32_t c0 = 0; c0 < out_c; c0 += kChunk) {
          const int32_t n = out_c - c0 < kChunk ? out_c - c0 : kChunk;
          for (int32_t k = 0; k < n; ++k) acc[k] = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* in_px = in_batch + (iy * input.w + ix0 + fx * p.dilation_w) * in_c;
              const int8_t* f_tap = filter_data + (fy * filter.w + fx) * out_c + c0;
              if (mult == 1) {
                const int8_t* x = in_px + c0;
                for (int32_t k = 0; k < n; ++k) {
                  acc[k] += static_cast<int32_t>(f_tap[k]) * (static_cast<int32_t>(x[k]) + input_offset);
                }
              } else {
                for (int32_t k = 0; k < n; ++k) {
                  const int32_t x = static_cast<int32_t>(in_px[(c0 + k) / mult]) + input_offset;
                  acc[k] += static_cast<int32_t>(f_tap[k]) * x;
                }
              }
            }
          }
          for (int32_t k = 0; k < n; ++k) {
            const int32_t oc = c0 + k;
            const int32_t a = bias != nullptr ? add_wrap(acc[k], bias[oc]) : acc[k];
            out_px[oc] = static_cast<int8_t>(requantize(a, p, multipliers, shifts, oc));
          }
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
