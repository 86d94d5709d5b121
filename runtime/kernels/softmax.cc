#include "softmax.h"

#include "fixedpoint.h"

namespace qbuild {
namespace kernels {

namespace {

constexpr int32_t kScaledDiffIntegerBits = 5;    // exp() input is Q5.26
constexpr int32_t kAccumulationIntegerBits = 12;  // sum of exps is Q12.19

int32_t count_leading_zeros(uint32_t x) {
  if (x == 0) return 32;
  int32_t n = 0;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

// exp(scaled (in - max)) in Q0 for diff = in - max <= 0, or 0 when diff < diff_min (TFLM skips those values: adding
// 0 to the sum and outputting -128 for them is the same). One out-of-line copy for both passes of eval_softmax.
int32_t exp_of_diff(const SoftmaxParams& p, int32_t diff) {
  if (diff < p.diff_min) return 0;
  const int32_t scaled = saturating_rounding_doubling_high_mul(
      static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift), p.input_multiplier);
  return fp::exp_on_negative_values(scaled, kScaledDiffIntegerBits);
}

}  // namespace

Status prepare_softmax(float beta, QuantInfo input_q, QuantInfo output_q, SoftmaxParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (output_q.zero_point != -128 || output_q.scale != 1.0f / 256.0f) return Status::kUnsupportedQuantization;
  if (!(beta > 0.0f && beta <= 3.4e38f)) return Status::kUnsupportedOptions;
  // TFLite's PreprocessSoftmaxScaling: min(beta * in_scale * 2^26, 2^31 - 1) in double (the product is exact),
  // then QuantizeMultiplierGreaterThanOne; CalculateInputRadius: floor(31 * 2^26 / 2^left_shift).
  const Double53 d = ratio_as_double(beta, input_q.scale, 1.0f);  // value = d * 2^26
  // Greater than one required: mantissa is in [2^52, 2^53), so value <= 1 exactly when exponent < -52, or
  // exponent == -52 with the smallest mantissa (value == 1).
  const int32_t exponent = d.exponent + (31 - kScaledDiffIntegerBits);
  if (exponent < -52 || (exponent == -52 && d.mantissa == (uint64_t{1} << 52))) return Status::kBadQuantization;
  SoftmaxParams r{};
  quantize_double53(Double53{d.mantissa, exponent}, 0, &r.input_multiplier, &r.input_left_shift);
  // The cap: a shift above 31 means value >= 2^31 - 1/2 (> 2^31 - 1); a value in (2^31 - 1, 2^31 - 1/2) already
  // quantizes to (2^31 - 1, 31), the capped result. value > 1 gives a shift >= 1, so the shift is in [1, 31] below.
  if (r.input_left_shift > 31) {
    r.input_multiplier = INT32_MAX;  // QuantizeMultiplier(2^31 - 1) = ((2^31 - 1), 31)
    r.input_left_shift = 31;
  }
  const int32_t rel = (31 - kScaledDiffIntegerBits) - r.input_left_shift;
  r.diff_min = -static_cast<int32_t>(rel >= 0 ? (int64_t{31} << rel) : (int64_t{31} >> -rel));
  *params = r;
  return Status::kOk;
}

void eval_softmax(const SoftmaxParams& p, int32_t outer_size, int32_t depth, const int8_t* input_data,
                  int8_t* output_data) {
  for (int32_t i = 0; i < outer_size; ++i) {
    const int8_t* in = input_data + i * depth;
    int8_t* out = output_data + i * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;

    int32_t sum_of_exps = 0;  // Q12
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t e = exp_of_diff(p, static_cast<int32_t>(in[c]) - max_in_row);
      sum_of_exps = fp::add(sum_of_exps, fp::rescale(e, 0, kAccumulationIntegerBits));
    }

    // TFLite's GetReciprocal: 1 / sum as a Q0 value times 2^-num_bits_over_unit.
    const int32_t headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(sum_of_exps));
    const int32_t num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
    const int32_t shifted_sum_minus_one = static_cast<int32_t>(
        (static_cast<uint32_t>(sum_of_exps) << headroom_plus_one) - (uint32_t{1} << 31));
    const int32_t shifted_scale = fp::one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);

    // A sum of exps >= 512 (>= 512 values tied at the row maximum) would need a shift > 31: every probability is
    // then < 1/512 and rounds to 0 (TFLM aborts on its own shift check there).
    const int32_t out_shift = num_bits_over_unit + 31 - 8;
    for (int32_t c = 0; c < depth; ++c) {
      int32_t unsat = 0;  // e == 0 (value skipped) gives 0 too
      if (out_shift <= 31) {
        unsat = rounding_divide_by_pot(fp::mul(shifted_scale, exp_of_diff(p, in[c] - max_in_row)), out_shift);
      }
      out[c] = static_cast<int8_t>(clamp_i32(unsat - 128, -128, 127));
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
