#include "activations.h"

#include "fixedpoint.h"

namespace qbuild {
namespace kernels {

// ---- RELU / RELU6 ----

Status prepare_relu(QuantInfo input_q, QuantInfo output_q, ReluParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  ReluParams r{};
  quantize_scale_ratio(input_q.scale, 1.0f, output_q.scale, 0, &r.output_multiplier, &r.output_shift);
  if (r.output_shift > 30) return Status::kBadQuantization;
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  const int32_t zero = output_q.zero_point + round_to_i32_saturated(0.0f / output_q.scale);
  r.act_min = zero > -128 ? zero : -128;
  r.act_max = 127;
  *params = r;
  return Status::kOk;
}

void eval_relu(const ReluParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = p.output_zero_point + multiply_by_quantized_multiplier(
                                                static_cast<int32_t>(input_data[i]) - p.input_zero_point,
                                                p.output_multiplier, p.output_shift);
    output_data[i] = static_cast<int8_t>(clamp_i32(v, p.act_min, p.act_max));
  }
}

Status prepare_relu6(QuantInfo input_q, QuantInfo output_q, Relu6Params* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  // TFLM clamps to [0, 6] quantized with the *input* parameters and does not requantize (measured: with
  // differing in/out scales TFLM's output still uses the input scale).
  const int32_t six = round_to_i32_saturated(6.0f / input_q.scale) + input_q.zero_point;
  params->lower = input_q.zero_point;
  params->upper = clamp_i32(six, -128, 127);
  return Status::kOk;
}

void eval_relu6(const Relu6Params& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  for (int32_t i = 0; i < size; ++i) {
    int32_t v = input_data[i];
    v = v > p.lower ? v : p.lower;
    v = v < p.upper ? v : p.upper;
    output_data[i] = static_cast<int8_t>(v);
  }
}

// ---- LOGISTIC / TANH ----

namespace {

constexpr int32_t kSigmoidInputIntegerBits = 4;

Status prepare_sigmoid_input(QuantInfo input_q, SigmoidParams* params) {
  // TFLM: q, shift = frexp(in_scale * 2^27); multiplier = round(q * 2^31) (no renormalisation);
  // radius = floor(15 * 2^27 / 2^shift). With a 24-bit float mantissa all of it is exact integer arithmetic.
  const Double53 d = ratio_as_double(input_q.scale, 1.0f, 1.0f);
  const int32_t exponent = d.exponent + 53 + (31 - kSigmoidInputIntegerBits);  // frexp's exponent
  if (exponent > 30 || exponent < -31) return Status::kBadQuantization;
  SigmoidParams r{};
  r.input_zero_point = input_q.zero_point;
  r.input_multiplier = static_cast<int32_t>(d.mantissa >> 22);  // exact: only 24 of the 53 bits are set
  r.input_left_shift = exponent;
  // floor(15 * 2^(27 - exponent)); exponent <= 30 keeps it >= 0 and exponent >= -31 bounds the left shift.
  const int32_t rel = (31 - kSigmoidInputIntegerBits) - exponent;
  const int64_t radius = rel >= 0 ? (int64_t{15} << rel) : (int64_t{15} >> -rel);
  r.input_range_radius = radius > INT32_MAX ? INT32_MAX : static_cast<int32_t>(radius);
  *params = r;
  return Status::kOk;
}

// LOGISTIC and TANH: saturate outside the input range radius, else rescale the input to Q4.27 and map it through
// `curve`, which returns the int8 result before clamping.
template <typename Curve>
inline void eval_sigmoid_like(const SigmoidParams& p, int32_t size, const int8_t* input_data, int8_t* output_data,
                              Curve curve) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t x = static_cast<int32_t>(input_data[i]) - p.input_zero_point;
    if (x <= -p.input_range_radius) {
      output_data[i] = -128;
    } else if (x >= p.input_range_radius) {
      output_data[i] = 127;
    } else {
      const int32_t x_q4 = multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift);
      output_data[i] = static_cast<int8_t>(clamp_i32(curve(x_q4), -128, 127));
    }
  }
}

}  // namespace

Status prepare_logistic(QuantInfo input_q, QuantInfo output_q, SigmoidParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (output_q.zero_point != -128 || output_q.scale != 1.0f / 256.0f) return Status::kUnsupportedQuantization;
  return prepare_sigmoid_input(input_q, params);
}

void eval_logistic(const SigmoidParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  eval_sigmoid_like(p, size, input_data, output_data, [](int32_t x_q4) {
    return rounding_divide_by_pot(fp::logistic(x_q4, kSigmoidInputIntegerBits), 31 - 8) - 128;
  });
}

Status prepare_tanh(QuantInfo input_q, QuantInfo output_q, SigmoidParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (output_q.zero_point != 0 || output_q.scale != 1.0f / 128.0f) return Status::kUnsupportedQuantization;
  return prepare_sigmoid_input(input_q, params);
}

void eval_tanh(const SigmoidParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  eval_sigmoid_like(p, size, input_data, output_data, [](int32_t x_q4) {
    return rounding_divide_by_pot(fp::tanh(x_q4, kSigmoidInputIntegerBits), 31 - 7);
  });
}

// ---- HARD_SWISH (TFLite's int16 fixed-point scheme) ----

namespace {

int32_t downscale_multiplier_to_int16(int32_t m) {
  const int32_t kRoundingOffset = 1 << 15;
  if (m >= INT32_MAX - kRoundingOffset) return 32767;
  return (m + kRoundingOffset) >> 16;
}

inline int16_t srdhm16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

inline int16_t sdhm16(int16_t a, int16_t b) {  // no rounding: cancels the bias of the rounding one above
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  return static_cast<int16_t>(ab / (1 << 15));
}

inline int16_t saturating_left_shift16(int16_t v, int32_t amount) {
  const int32_t r = static_cast<int32_t>(v) * (int32_t{1} << amount);
  return static_cast<int16_t>(clamp_i32(r, INT16_MIN, INT16_MAX));
}

// gemmlowp's RoundingDivideByPOT on int16 (the mask is computed in the int16 type).
inline int16_t rounding_divide_by_pot16(int16_t x, int32_t exponent) {
  const int16_t mask = static_cast<int16_t>((int64_t{1} << exponent) - 1);
  const int16_t remainder = static_cast<int16_t>(x & mask);
  const int16_t threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((static_cast<int32_t>(x) >> (exponent > 31 ? 31 : exponent)) + (remainder > threshold ? 1 : 0));
}

}  // namespace

Status prepare_hard_swish(QuantInfo input_q, QuantInfo output_q, HardSwishParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  // All in float, as TFLite's HardSwishPrepare.
  const float hires_input_scale = (1.0f / 128.0f) * input_q.scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_multiplier = hires_input_scale / output_q.scale;
  const float reluish_multiplier = hires_input_scale / reluish_scale;
  HardSwishParams r{};
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  int32_t m = 0;
  int32_t e = 0;
  quantize_scale_ratio(output_multiplier, 1.0f, 1.0f, 0, &m, &e);
  r.output_multiplier_fixedpoint_int16 = downscale_multiplier_to_int16(m);
  r.output_multiplier_exponent = e;
  if (e > 0) return Status::kBadQuantization;  // TFLite requires output_multiplier <= 1
  quantize_scale_ratio(reluish_multiplier, 1.0f, 1.0f, 0, &m, &e);
  r.reluish_multiplier_fixedpoint_int16 = downscale_multiplier_to_int16(m);
  r.reluish_multiplier_exponent = e;
  if (e > 15) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_hard_swish(const HardSwishParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  const int16_t out_mult = static_cast<int16_t>(p.output_multiplier_fixedpoint_int16);
  const int16_t reluish_mult = static_cast<int16_t>(p.reluish_multiplier_fixedpoint_int16);
  const int32_t reluish_exp = p.reluish_multiplier_exponent;
  for (int32_t i = 0; i < size; ++i) {
    const int16_t x = static_cast<int16_t>(input_data[i] - p.input_zero_point);
    const int16_t x_hires = static_cast<int16_t>(x * (1 << 7));
    const int16_t x_preshift_out = srdhm16(x_hires, out_mult);
    // Rescale x so that 3.0 maps to 32768 (saturating), then to [0, 1] as Q0.15.
    int16_t reluish = x_hires;
    if (reluish_exp > 0) reluish = saturating_left_shift16(reluish, reluish_exp - 1);
    reluish = srdhm16(reluish, reluish_mult);
    if (reluish_exp > 0) reluish = saturating_left_shift16(reluish, 1);
    if (reluish_exp < 0) reluish = rounding_divide_by_pot16(reluish, -reluish_exp);
    reluish = static_cast<int16_t>((static_cast<int32_t>(reluish) + (1 << 15)) >> 1);
    const int16_t preshift = sdhm16(reluish, x_preshift_out);
    int32_t y = rounding_divide_by_pot16(preshift, -p.output_multiplier_exponent);
    y = static_cast<int16_t>(y + p.output_zero_point);
    output_data[i] = static_cast<int8_t>(clamp_i32(y, -128, 127));
  }
}

}  // namespace kernels
}  // namespace qbuild
