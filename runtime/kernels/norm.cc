#include "norm.h"

#include <math.h>
#include <string.h>

#include "fixedpoint.h"

namespace qbuild {
namespace kernels {
namespace {

// TFLite's GetInvSqrtQuantizedMultiplierExp(x, kReverseShift = -1): 1/sqrt(x) as multiplier * 2^shift.
void inv_sqrt_multiplier(int32_t input, int32_t* multiplier, int32_t* shift) {
  if (input <= 1) {  // 0 and 1 both give the largest multiplier (TFLite treats 0 as 1)
    *multiplier = INT32_MAX;
    *shift = 0;
    return;
  }
  int32_t s = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++s;
  }
  const int32_t pairs = (__builtin_clz(static_cast<uint32_t>(input)) - 1) / 2 - 1;
  s -= pairs;
  input <<= 2 * pairs;
  // Newton-Raphson on Q3 values from x = 1: x = 1.5x - (input/2) x^3, five times.
  const int32_t q3_input = input >> 1;
  const int32_t half_input = fp::saturating_rounding_mul_by_pot(q3_input, -1);
  const int32_t half_three = (1 << 28) + (1 << 27);  // 1.5 in Q3
  int32_t x = 1 << 28;                               // 1.0 in Q3
  for (int i = 0; i < 5; ++i) {
    const int32_t x3 = fp::rescale(fp::mul(fp::mul(x, x), x), 9, 3);
    x = fp::rescale(fp::sub(fp::mul(half_three, x), fp::mul(half_input, x3)), 6, 3);
  }
  x = fp::mul(x, 1518500250);  // * sqrt(2)/2 in Q0
  if (s < 0) {
    x = static_cast<int32_t>(static_cast<uint32_t>(x) << -s);
    s = 0;
  }
  *multiplier = x;
  *shift = -s;
}

}  // namespace

Status prepare_squared_difference(QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q,
                                  SquaredDifferenceParams* params) {
  if (!valid_quant(input1_q) || !valid_quant(input2_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  SquaredDifferenceParams r{};
  r.input1_offset = -input1_q.zero_point;
  r.input2_offset = -input2_q.zero_point;
  r.output_offset = output_q.zero_point;
  // TFLM, in double: in_i / (2 max) and (2 max)^2 / (2^14 out); the powers of two are exact.
  const float max_scale = input1_q.scale > input2_q.scale ? input1_q.scale : input2_q.scale;
  quantize_scale_ratio(input1_q.scale, 1.0f, max_scale, -1, &r.input1_multiplier, &r.input1_shift);
  quantize_scale_ratio(input2_q.scale, 1.0f, max_scale, -1, &r.input2_multiplier, &r.input2_shift);
  quantize_scale_ratio(max_scale, max_scale, output_q.scale, 2 - 14, &r.output_multiplier, &r.output_shift);
  if (r.input1_shift > 0 || r.input2_shift > 0 || r.output_shift > 30) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_squared_difference(const SquaredDifferenceParams& p, const Shape4& in1, const int8_t* a, const Shape4& in2,
                             const int8_t* b, const Shape4& out, int8_t* o) {
  // Element strides of each input inside the output: 0 along its broadcast axes.
  const int32_t sa[4] = {in1.n == 1 ? 0 : in1.h * in1.w * in1.c, in1.h == 1 ? 0 : in1.w * in1.c,
                         in1.w == 1 ? 0 : in1.c, in1.c == 1 ? 0 : 1};
  const int32_t sb[4] = {in2.n == 1 ? 0 : in2.h * in2.w * in2.c, in2.h == 1 ? 0 : in2.w * in2.c,
                         in2.w == 1 ? 0 : in2.c, in2.c == 1 ? 0 : 1};
  for (int32_t i0 = 0; i0 < out.n; ++i0)
    for (int32_t i1 = 0; i1 < out.h; ++i1)
      for (int32_t i2 = 0; i2 < out.w; ++i2)
        for (int32_t i3 = 0; i3 < out.c; ++i3) {
          const int32_t x = a[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]] + p.input1_offset;
          const int32_t y = b[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]] + p.input2_offset;
          const int32_t sx = multiply_by_quantized_multiplier(x * (1 << 7), p.input1_multiplier, p.input1_shift);
          const int32_t sy = multiply_by_quantized_multiplier(y * (1 << 7), p.input2_multiplier, p.input2_shift);
          const int32_t d = sx - sy;
          const int32_t v = multiply_by_quantized_multiplier(d * d, p.output_multiplier, p.output_shift) + p.output_offset;
          *o++ = static_cast<int8_t>(clamp_i32(v, -128, 127));
        }
}

Status prepare_rsqrt(QuantInfo input_q, QuantInfo output_q, RsqrtParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  RsqrtParams r{};
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  const double scale = 1.0 / (sqrt(static_cast<double>(input_q.scale)) * static_cast<double>(output_q.scale));
  if (!(scale > 0.0 && scale < 1e300)) return Status::kBadQuantization;
  uint64_t bits = 0;
  memcpy(&bits, &scale, sizeof(bits));
  const int32_t biased = static_cast<int32_t>((bits >> 52) & 0x7ff);
  if (biased == 0) return Status::kBadQuantization;  // subnormal: no such scales
  const Double53 d{(bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52), biased - 1075};
  quantize_double53(d, 0, &r.multiplier, &r.shift);
  if (r.shift > 31 + 20 || r.shift < 20 - 31) return Status::kBadQuantization;  // eval shifts by shift - 20
  *params = r;
  return Status::kOk;
}

bool eval_rsqrt(const RsqrtParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  constexpr int32_t kShift = 20;
  for (int32_t i = 0; i < size; ++i) {
    if (input_data[i] < p.input_zero_point) return false;
    const int32_t value = input_data[i] - p.input_zero_point;
    if (value == 0) {
      output_data[i] = 127;
      continue;
    }
    int32_t m = 0;
    int32_t s = 0;
    inv_sqrt_multiplier(value, &m, &s);
    const int32_t data = multiply_by_quantized_multiplier(1, m, s + kShift);
    const int32_t v = multiply_by_quantized_multiplier(data, p.multiplier, p.shift - kShift) + p.output_zero_point;
    output_data[i] = static_cast<int8_t>(clamp_i32(v, -128, 127));
  }
  return true;
}

}  // namespace kernels
}  // namespace qbuild
