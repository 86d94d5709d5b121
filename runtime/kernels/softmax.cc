#include "softmax.h"

#include <math.h>

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
  // TFLite's PreprocessSoftmaxScaling + CalculateInputRadius.
  double real = static_cast<double>(beta) * static_cast<double>(input_q.scale) *
                static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits));
  const double cap = static_cast<double>(int64_t{1} << 31) - 1.0;
  if (real > cap) real = cap;
  if (!(real > 1.0)) return Status::kBadQuantization;
  SoftmaxParams r{};
  quantize_multiplier(real, &r.input_multiplier, &r.input_left_shift);
  if (r.input_left_shift < 0 || r.input_left_shift > 31) return Status::kBadQuantization;
  const double max_input_rescaled = 1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                    static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)) /
                                    static_cast<double>(int64_t{1} << r.input_left_shift);
  r.diff_min = -static_cast<int32_t>(floor(max_input_rescaled));
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
