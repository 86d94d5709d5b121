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

Status prepare_window(const ConvOptions& opt, int32_t filter_h, int32_t filter_w, const Shape4& input,
                      const Shape4& output, QuantInfo input_q, QuantInfo output_q, ConvParams* p) {
  if (opt.padding != Padding::kSame && opt.padding != Padding::kValid) return Status::kUnsupportedPadding;
  if (opt.stride_h < 1 || opt.stride_w < 1 || opt.dilation_h < 1 || opt.dilation_w < 1) {
    return Status::kUnsupportedOptions;
  }
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (!sane_shape(input) || !sane_shape(output) || input.n != output.n ||
      conv_output_size(opt.padding, input.h, filter_h, opt.stride_h, opt.dilation_h) != output.h ||
      conv_output_size(opt.padding, input.w, filter_w, opt.stride_w, opt.dilation_w) != output.w) {
    return Status::kBadShape;
  }
  p->stride_h = opt.stride_h;
  p->stride_w = opt.stride_w;
  p->dilation_h = opt.dilation_h;
  p->dilation_w = opt.dilation_w;
  p->pad_h = leading_padding(opt.stride_h, opt.dilation_h, input.h, filter_h, output.h);
  p->pad_w = leading_padding(opt.stride_w, opt.dilation_w, input.w, filter_w, output.w);
  p->filter_h = filter_h;
  p->filter_w = filter_w;
  p->input_offset = -input_q.zero_point;
  p->output_offset = output_q.zero_point;
  return activation_range(opt.activation, output_q, &p->act_min, &p->act_max);
}

namespace {

// Both convs: window geometry from the filter shape, then the requantization multipliers.
Status prepare_weighted(const ConvOptions& opt, WindowKind kind, int32_t depth, const Shape4& input,
                        const Shape4& filter, const Shape4& output, QuantInfo input_q, const float* filter_scales,
                        int32_t num_filter_scales, QuantInfo output_q, int32_t* multipliers, int8_t* shifts,
                        ConvParams* params) {
  ConvParams r{};
  Status s = prepare_window(opt, filter.h, filter.w, input, output, input_q, output_q, &r);
  if (s != Status::kOk) return s;
  if (!sane_shape(filter)) return Status::kBadShape;
  if (filter_scales == nullptr || (num_filter_scales != 1 && num_filter_scales != output.c)) {
    return Status::kBadQuantization;
  }
  const bool per_channel = num_filter_scales > 1;
  if (per_channel && (multipliers == nullptr || shifts == nullptr)) return Status::kBadQuantization;
  r.kind = kind;
  r.depth = depth;
  r.per_channel = per_channel ? 1 : 0;
  s = filter_multipliers(input_q.scale, filter_scales, num_filter_scales, output_q.scale, multipliers, shifts,
                         &r.output_multiplier, &r.output_shift);
  if (s != Status::kOk) return s;
  *params = r;
  return Status::kOk;
}

}  // namespace

Status prepare_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                    QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                    int32_t* multipliers, int8_t* shifts, ConvParams* params) {
  if (filter.c < 1 || input.c % filter.c != 0 || filter.n != output.c) return Status::kBadShape;
  const int32_t groups = input.c / filter.c;
  if (output.c % groups != 0) return Status::kBadShape;
  return prepare_weighted(opt, WindowKind::kConv, filter.c, input, filter, output, input_q, filter_scales,
                          num_filter_scales, output_q, multipliers, shifts, params);
}

Status prepare_depthwise_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter,
                              const Shape4& output, QuantInfo input_q, const float* filter_scales,
                              int32_t num_filter_scales, QuantInfo output_q, int32_t* multipliers,
                              int8_t* shifts, ConvParams* params) {
  if (input.c < 1 || filter.n != 1 || filter.c != output.c || output.c % input.c != 0) return Status::kBadShape;
  if (opt.depth_multiplier != 0 && opt.depth_multiplier != output.c / input.c) return Status::kBadShape;
  return prepare_weighted(opt, WindowKind::kDepthwise, 1, input, filter, output, input_q, filter_scales,
                          num_filter_scales, output_q, multipliers, shifts, params);
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

// The accumulator of one output channel made an int8 value: bias, multiplier, zero point, clamp (weighted ops) or
// the rounded average of `count` taps (AVERAGE_POOL_2D: same quantization in and out, no offsets).
inline int8_t finish(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const int32_t* bias,
                     int32_t oc, int32_t acc, int32_t count) {
  int32_t v;
  if (p.kind == WindowKind::kAveragePool) {
    QBUILD_KERNEL_ASSERT(count > 0);
    if (count < 1) count = 1;
    v = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  } else {
    if (bias != nullptr) acc = add_wrap(acc, bias[oc]);
    const int32_t m = p.per_channel ? multipliers[oc] : p.output_multiplier;
    const int32_t s = p.per_channel ? shifts[oc] : p.output_shift;
    v = multiply_by_quantized_multiplier(acc, m, s) + p.output_offset;
  }
  return static_cast<int8_t>(clamp_i32(v, p.act_min, p.act_max));
}

}  // namespace

void eval_conv(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const Shape4& input,
               const int8_t* input_data, const int8_t* filter_data, const int32_t* bias, const Shape4& output,
               int8_t* output_data) {
#if QBUILD_KERNELS_DSP
  if (eval_conv_dsp(p, multipliers, shifts, input, input_data, filter_data, bias, output, output_data)) return;
#endif
  static const int8_t kOne = 1;
  const int32_t in_c = input.c;
  const int32_t out_c = output.c;
  const int32_t depth = p.depth;
  // Output channels per input channel group, and the filter's element strides per output channel and per tap.
  int32_t per_group = 1;
  int32_t oc_stride = 0;
  int32_t tap_stride = 0;
  if (p.kind == WindowKind::kConv) {
    per_group = out_c / (in_c / depth);
    tap_stride = depth;
    oc_stride = p.filter_h * p.filter_w * depth;
  } else if (p.kind == WindowKind::kDepthwise) {
    per_group = out_c / in_c;
    oc_stride = 1;
    tap_stride = out_c;
  } else {
    filter_data = &kOne;  // every tap weighs 1 (depth 1, strides 0)
  }
  const int32_t input_offset = p.input_offset;
  // Four output channels at a time share each input load (and its offset add): ungrouped convs only, so the four
  // filters read the same input channels.
  const int32_t blocked_end =
      (QBUILD_KERNELS_UNROLL && p.kind == WindowKind::kConv && per_group == out_c) ? out_c - out_c % 4 : 0;
  int8_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy_start, fy_end;
      valid_taps(iy0, p.dilation_h, p.filter_h, input.h, &fy_start, &fy_end);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx_start, fx_end;
        valid_taps(ix0, p.dilation_w, p.filter_w, input.w, &fx_start, &fx_end);
        const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
        // A filter zero point (FULLY_CONNECTED only: 1x1 window, one group, no padding) is applied once per pixel:
        // sum((w - zp) * x) = sum(w * x) - zp * sum(x), exact in wrapping int32 arithmetic. TFLite's int8 weights
        // are symmetric, so the loops below never pay for it.
        int32_t x_sum = 0;
        if (p.filter_offset != 0) {
          const int8_t* px = in_batch + (iy0 * input.w + ix0) * in_c;
          for (int32_t k = 0; k < depth; ++k) x_sum += static_cast<int32_t>(px[k]) + input_offset;
          x_sum = static_cast<int32_t>(static_cast<uint32_t>(x_sum) * static_cast<uint32_t>(p.filter_offset));
        }
        int32_t oc = 0;
        for (; oc < blocked_end; oc += 4) {
          const int8_t* f0 = filter_data + oc * oc_stride;
          const int8_t* f1 = f0 + oc_stride;
          const int8_t* f2 = f1 + oc_stride;
          const int8_t* f3 = f2 + oc_stride;
          int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* in_px = in_batch + (iy * input.w + ix0 + fx * p.dilation_w) * in_c;
              const int32_t tap = (fy * p.filter_w + fx) * depth;
              for (int32_t k = 0; k < depth; ++k) {
                const int32_t x = static_cast<int32_t>(in_px[k]) + input_offset;
                a0 += static_cast<int32_t>(f0[tap + k]) * x;
                a1 += static_cast<int32_t>(f1[tap + k]) * x;
                a2 += static_cast<int32_t>(f2[tap + k]) * x;
                a3 += static_cast<int32_t>(f3[tap + k]) * x;
              }
            }
          }
          out[oc] = finish(p, multipliers, shifts, bias, oc, add_wrap(a0, x_sum), count);
          out[oc + 1] = finish(p, multipliers, shifts, bias, oc + 1, add_wrap(a1, x_sum), count);
          out[oc + 2] = finish(p, multipliers, shifts, bias, oc + 2, add_wrap(a2, x_sum), count);
          out[oc + 3] = finish(p, multipliers, shifts, bias, oc + 3, add_wrap(a3, x_sum), count);
        }
        // Output channels of one input channel group are consecutive: the group's input offset is stepped, not
        // divided out per channel. oc (= blocked_end) lies in the first group (blocking needs a single group).
        const int8_t* in_group = in_batch;
        int32_t group_left = per_group - oc;
        for (; oc < out_c; ++oc) {
          const int8_t* f_oc = filter_data + oc * oc_stride;
          int32_t acc = 0;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) {
              const int8_t* in_px = in_group + (iy * input.w + ix0 + fx * p.dilation_w) * in_c;
              const int8_t* f_px = f_oc + (fy * p.filter_w + fx) * tap_stride;
              for (int32_t k = 0; k < depth; ++k) {
                const int32_t x = static_cast<int32_t>(in_px[k]) + input_offset;
                acc += static_cast<int32_t>(f_px[k]) * x;
              }
            }
          }
          out[oc] = finish(p, multipliers, shifts, bias, oc, add_wrap(acc, x_sum), count);
          if (--group_left == 0) {
            group_left = per_group;
            in_group += depth;
          }
        }
        out += out_c;
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
