#include "rectifier.h"

namespace qbuild {
namespace kernels {
namespace {

// TFLite's QuantizeMultiplier(-m) for m > 0: frexp keeps the sign, so a fraction that rounds to -1.0 stays
// INT32_MIN (a positive one that rounds to 1.0 is halved and the shift grows by one).
void negative_multiplier(float m, int32_t* multiplier, int32_t* shift) {
  const Double53 d = ratio_as_double(m, 1.0f, 1.0f);
  const int64_t q = static_cast<int64_t>((d.mantissa + (uint64_t{1} << 21)) >> 22);
  const int32_t e = d.exponent + 53;
  if (e < -31) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  *multiplier = q == (int64_t{1} << 31) ? INT32_MIN : static_cast<int32_t>(-q);
  *shift = e;
}

}  // namespace

Status prepare_leaky_relu(float alpha, QuantInfo input_q, QuantInfo output_q, LeakyReluParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (!(alpha >= -3.4e38f && alpha <= 3.4e38f)) return Status::kUnsupportedOptions;
  LeakyReluParams r{};
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  // Float arithmetic on purpose (see the header); the quotient is then an exact double.
  const float id = input_q.scale / output_q.scale;
  const float sl = input_q.scale * alpha / output_q.scale;
  if (!(id > 0.0f && id <= 3.4e38f) || !(sl <= 3.4e38f && sl >= -3.4e38f)) return Status::kBadQuantization;
  quantize_scale_ratio(id, 1.0f, 1.0f, 0, &r.identity_multiplier, &r.identity_shift);
  if (sl < 0.0f) {
    negative_multiplier(-sl, &r.alpha_multiplier, &r.alpha_shift);
  } else {
    quantize_scale_ratio(sl, 1.0f, 1.0f, 0, &r.alpha_multiplier, &r.alpha_shift);
  }
  if (r.identity_shift > 31 || r.alpha_shift > 31) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_leaky_relu(const LeakyReluParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t x = input_data[i] - p.input_zero_point;
    const int32_t v = x >= 0 ? multiply_by_quantized_multiplier(x, p.identity_multiplier, p.identity_shift)
                             : multiply_by_quantized_multiplier(x, p.alpha_multiplier, p.alpha_shift);
    output_data[i] = static_cast<int8_t>(clamp_i32(v + p.output_zero_point, -128, 127));
  }
}

Status prepare_prelu(QuantInfo input_q, QuantInfo alpha_q, QuantInfo output_q, PreluParams* params) {
  if (!valid_quant(input_q) || !valid_quant(alpha_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  PreluParams r{};
  r.input_offset = -input_q.zero_point;
  r.alpha_offset = -alpha_q.zero_point;
  r.output_offset = output_q.zero_point;
  quantize_scale_ratio(input_q.scale, 1.0f, output_q.scale, 0, &r.identity_multiplier, &r.identity_shift);
  quantize_scale_ratio(input_q.scale, alpha_q.scale, output_q.scale, 0, &r.alpha_multiplier, &r.alpha_shift);
  if (r.identity_shift > 31 || r.alpha_shift > 31) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_prelu(const PreluParams& p, const Shape4& input, const int8_t* input_data, const Shape4& alpha,
                const int8_t* alpha_data, int8_t* output_data) {
  // Element strides of alpha inside the input: 0 along its broadcast (size 1) axes.
  const int32_t sc = alpha.c == 1 ? 0 : 1;
  const int32_t sw = alpha.w == 1 ? 0 : alpha.c;
  const int32_t sh = alpha.h == 1 ? 0 : alpha.w * alpha.c;
  const int32_t sn = alpha.n == 1 ? 0 : alpha.h * alpha.w * alpha.c;
  for (int32_t n = 0; n < input.n; ++n)
    for (int32_t h = 0; h < input.h; ++h)
      for (int32_t w = 0; w < input.w; ++w) {
        const int8_t* a = alpha_data + n * sn + h * sh + w * sw;
        for (int32_t c = 0; c < input.c; ++c) {
          const int32_t x = p.input_offset + *input_data++;
          int32_t v;
          if (x >= 0) {
            v = multiply_by_quantized_multiplier(x, p.identity_multiplier, p.identity_shift);
          } else {
            v = multiply_by_quantized_multiplier(x * (p.alpha_offset + a[c * sc]), p.alpha_multiplier, p.alpha_shift);
          }
          *output_data++ = static_cast<int8_t>(clamp_i32(v + p.output_offset, -128, 127));
        }
      }
}

}  // namespace kernels
}  // namespace qbuild
