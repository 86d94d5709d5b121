#include "transpose_conv.h"

#include "conv.h"

namespace qbuild {
namespace kernels {

Status prepare_transpose_conv(Padding padding, int32_t stride_h, int32_t stride_w, Activation act,
                              const Shape4& input, const Shape4& filter, const Shape4& output, QuantInfo input_q,
                              const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                              int32_t* multipliers, int8_t* shifts, TransposeConvParams* params) {
  if (padding != Padding::kSame && padding != Padding::kValid) return Status::kUnsupportedPadding;
  if (act != Activation::kNone) return Status::kUnsupportedActivation;
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (!sane_shape(input) || !sane_shape(filter) || !sane_shape(output)) return Status::kBadShape;
  if (input.n != output.n || filter.n != output.c || filter.c != input.c) return Status::kBadShape;
  // The padding TFLM uses is the forward conv's from the output back to the input.
  const int32_t back_h = conv_output_size(padding, output.h, filter.h, stride_h, 1);
  const int32_t back_w = conv_output_size(padding, output.w, filter.w, stride_w, 1);
  if (back_h != input.h || back_w != input.w) return Status::kBadShape;
  if (filter_scales == nullptr || (num_filter_scales != 1 && num_filter_scales != output.c) ||
      multipliers == nullptr || shifts == nullptr) {
    return Status::kBadQuantization;
  }
  TransposeConvParams r{};
  r.stride_h = stride_h;
  r.stride_w = stride_w;
  r.pad_h = leading_padding(stride_h, 1, output.h, filter.h, back_h);
  r.pad_w = leading_padding(stride_w, 1, output.w, filter.w, back_w);
  r.input_offset = -input_q.zero_point;
  r.output_offset = output_q.zero_point;
  for (int32_t c = 0; c < output.c; ++c) {
    const float fs = filter_scales[num_filter_scales > 1 ? c : 0];
    int32_t shift = 0;
    const Status s =
        filter_multipliers(input_q.scale, &fs, 1, output_q.scale, nullptr, nullptr, &multipliers[c], &shift);
    if (s != Status::kOk) return s;
    shifts[c] = static_cast<int8_t>(shift);  // in [-31, 30]
  }
  *params = r;
  return Status::kOk;
}

void eval_transpose_conv(const TransposeConvParams& p, const int32_t* multipliers, const int8_t* shifts,
                         const Shape4& input, const int8_t* input_data, const Shape4& filter,
                         const int8_t* filter_data, const int32_t* bias, const Shape4& output, int8_t* output_data,
                         int32_t* scratch) {
  const int32_t total = flat_size(output);
  for (int32_t i = 0; i < total; ++i) scratch[i] = 0;
  const int32_t in_c = input.c;
  const int32_t out_c = output.c;
  // Scatter: every input pixel adds its filter-weighted values into the output window it covers.
  for (int32_t b = 0; b < input.n; ++b)
    for (int32_t iy = 0; iy < input.h; ++iy)
      for (int32_t ix = 0; ix < input.w; ++ix) {
        const int8_t* in = input_data + ((b * input.h + iy) * input.w + ix) * in_c;
        const int32_t oy0 = iy * p.stride_h - p.pad_h;
        const int32_t ox0 = ix * p.stride_w - p.pad_w;
        for (int32_t fy = 0; fy < filter.h; ++fy) {
          const int32_t oy = oy0 + fy;
          if (oy < 0 || oy >= output.h) continue;
          for (int32_t fx = 0; fx < filter.w; ++fx) {
            const int32_t ox = ox0 + fx;
            if (ox < 0 || ox >= output.w) continue;
            int32_t* acc = scratch + ((b * output.h + oy) * output.w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; ++oc) {
              const int8_t* w = filter_data + ((oc * filter.h + fy) * filter.w + fx) * in_c;
              int32_t sum = 0;
              for (int32_t ic = 0; ic < in_c; ++ic) sum += (in[ic] + p.input_offset) * w[ic];
              acc[oc] = add_wrap(acc[oc], sum);
            }
          }
        }
      }
  for (int32_t i = 0; i < total; ++i) {
    const int32_t oc = i % out_c;
    int32_t acc = scratch[i];
    if (bias) acc = add_wrap(acc, bias[oc]);
    const int32_t v = multiply_by_quantized_multiplier(acc, multipliers[oc], shifts[oc]) + p.output_offset;
    output_data[i] = static_cast<int8_t>(clamp_i32(v, -128, 127));
  }
}

}  // namespace kernels
}  // namespace qbuild
