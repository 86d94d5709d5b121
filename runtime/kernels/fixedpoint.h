// gemmlowp-style Q-format helpers used by softmax, logistic and tanh (internal to runtime/kernels).
// Raw int32 values; a "Qk" value has k integer bits and 31-k fractional bits.
#ifndef QBUILD_KERNELS_FIXEDPOINT_H_
#define QBUILD_KERNELS_FIXEDPOINT_H_

#include "common.h"

namespace qbuild {
namespace kernels {
namespace fp {

// Wrapping add/sub, as gemmlowp's raw int32 arithmetic behaves on every target we build for.
inline int32_t add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
inline int32_t mul(int32_t a, int32_t b) { return saturating_rounding_doubling_high_mul(a, b); }

// x * 2^exponent, saturating for exponent > 0, rounding for exponent < 0.
inline int32_t saturating_rounding_mul_by_pot(int32_t x, int32_t exponent) {
  if (exponent > 0) {
    const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
  }
  if (exponent < 0) return rounding_divide_by_pot(x, -exponent);
  return x;
}

// Changes the number of integer bits from src to dst.
inline int32_t rescale(int32_t x, int32_t src_int_bits, int32_t dst_int_bits) {
  return saturating_rounding_mul_by_pot(x, src_int_bits - dst_int_bits);
}

inline int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

constexpr int32_t kQ0One = INT32_MAX;  // Q0 cannot hold 1.0: gemmlowp saturates it

// exp(a) for a in [-1/4, 0), a and result in Q0.
inline int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t constant_term = 1895147668;     // exp(-1/8)
  const int32_t constant_1_over_3 = 715827883;  // 1/3
  const int32_t x = add(a, 1 << 28);            // a + 1/8
  const int32_t x2 = mul(x, x);
  const int32_t x3 = mul(x2, x);
  const int32_t x4 = mul(x2, x2);
  const int32_t x4_over_4 = saturating_rounding_mul_by_pot(x4, -2);
  const int32_t poly = saturating_rounding_mul_by_pot(add(mul(add(x4_over_4, x3), constant_1_over_3), x2), -1);
  return add(constant_term, mul(constant_term, add(x, poly)));
}

// exp(a) for a <= 0; a has int_bits integer bits, result in Q0.
inline int32_t exp_on_negative_values(int32_t a, int32_t int_bits) {
  const int32_t frac_bits = 31 - int_bits;
  const int32_t one_quarter = 1 << (frac_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = sub(a & mask, one_quarter);
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale(a_mod_quarter_minus_one_quarter, int_bits, 0));
  const int32_t remainder = sub(a_mod_quarter_minus_one_quarter, a);
  // Barrel shifter: multiply by exp(-2^k) for every bit k set in the remainder.
  static const int32_t kMultipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  for (int32_t k = -2; k <= 4; ++k) {
    if (int_bits > k) {
      const int32_t bit = frac_bits + k;
      if (remainder & static_cast<int32_t>(uint32_t{1} << bit)) result = mul(result, kMultipliers[k + 2]);
    }
  }
  if (int_bits > 5) {
    const int32_t clamp = -(1 << (36 - int_bits));  // -32.0
    if (a < clamp) result = 0;
  }
  if (a == 0) result = kQ0One;
  return result;
}

// 1 / (1 + x) for x in [0, 1), Q0 in, Q0 out (Newton-Raphson in Q2).
inline int32_t newton_reciprocal_q2(int32_t half_denominator) {
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t q2_one = 1 << 29;
  int32_t x = add(constant_48_over_17, mul(half_denominator, constant_neg_32_over_17));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = mul(half_denominator, x);
    const int32_t one_minus = sub(q2_one, half_denominator_times_x);
    x = add(x, rescale(mul(x, one_minus), 4, 2));
  }
  return x;
}

inline int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t x = newton_reciprocal_q2(rounding_half_sum(a, kQ0One));
  return rescale(x, 1, 0);  // ExactMulByPot<-1> reinterprets Q2 as Q1
}

inline int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t x = newton_reciprocal_q2(rounding_half_sum(a, kQ0One));
  return rescale(sub(x, 1 << 29), 2, 0);
}

// logistic(a), a with int_bits integer bits, result Q0.
inline int32_t logistic(int32_t a, int32_t int_bits) {
  if (a == 0) return 1 << 30;
  const int32_t abs_a = a > 0 ? a : sub(0, a);
  const int32_t positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(sub(0, abs_a), int_bits));
  return a > 0 ? positive : sub(kQ0One, positive);
}

// tanh(a), a with int_bits integer bits, result Q0.
inline int32_t tanh(int32_t a, int32_t int_bits) {
  if (a == 0) return 0;
  const int32_t n = a < 0 ? a : sub(0, a);
  // ExactMulByPot<1>: same raw value read with one more integer bit, i.e. 2 * n.
  const int32_t t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, int_bits + 1));
  return a < 0 ? sub(0, t) : t;
}

}  // namespace fp
}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_FIXEDPOINT_H_
