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

}  // namespace

Status prepare_softmax(float beta, QuantInfo input_q, QuantInfo output_q, SoftmaxParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (output_q.zero_point != -128 || output_q.scale != 1.0f / 256.0f) return Status::kUnsupportedQuantization;
  if (!(beta > 0.0f && beta <= 3.4e38f)) return Status::kUnsupportedOptions;
  // TFLite's PreprocessSoftmaxScaling: min(beta * in_scale * 2^26, 2^31 - 1) in double (the product is exact),
  // then QuantizeMultiplierGreaterThanOne; CalculateInputRadius: floor(31 * 2^26 / 2^left_shift).
  const Double53 d = ratio_as_double(beta, input_q.scale, 1.0f);
  const int32_t exponent = d.exponent + (31 - kScaledDiffIntegerBits);  // value = mantissa * 2^exponent
  SoftmaxParams r{};
  // Cap when the value exceeds 2^31 - 1: always for exponent >= -21 (value >= 2^31); else compare exactly.
  const bool cap = exponent >= -21 ||
                   (exponent > -64 && -exponent <= 32 &&
                    d.mantissa > ((uint64_t{1} << 31) - 1) << -exponent);
  if (cap) {
    r.input_multiplier = INT32_MAX;  // QuantizeMultiplier(2^31 - 1) = ((2^31 - 1), 31)
    r.input_left_shift = 31;
  } else {
    // Greater than one required: value > 1 <=> mantissa * 2^exponent > 1.
    if (exponent <= -53) return Status::kBadQuantization;
    if (exponent < 0 && d.mantissa <= (uint64_t{1} << -exponent)) return Status::kBadQuantization;
    quantize_double53(Double53{d.mantissa, exponent}, 0, &r.input_multiplier, &r.input_left_shift);
  }
  if (r.input_left_shift < 0 || r.input_left_shift > 31) return Status::kBadQuantization;
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
      const int32_t diff = static_cast<int32_t>(in[c]) - max_in_row;
      if (diff >= p.diff_min) {
        const int32_t scaled = saturating_rounding_doubling_high_mul(
            static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift), p.input_multiplier);
        const int32_t e = fp::exp_on_negative_values(scaled, kScaledDiffIntegerBits);
        sum_of_exps = fp::add(sum_of_exps, fp::rescale(e, 0, kAccumulationIntegerBits));
      }
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
      const int32_t diff = static_cast<int32_t>(in[c]) - max_in_row;
      if (diff >= p.diff_min && out_shift <= 31) {
        const int32_t scaled = saturating_rounding_doubling_high_mul(
            static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift), p.input_multiplier);
        const int32_t e = fp::exp_on_negative_values(scaled, kScaledDiffIntegerBits);
        const int32_t unsat = rounding_divide_by_pot(fp::mul(shifted_scale, e), out_shift);
        out[c] = static_cast<int8_t>(clamp_i32(unsat - 128, -128, 127));
      } else {
        out[c] = -128;
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
