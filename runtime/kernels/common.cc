#include "common.h"

#include <math.h>
#include <string.h>

namespace qbuild {
namespace kernels {

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kBadShape: return "bad shape";
    case Status::kBadQuantization: return "bad quantization parameters";
    case Status::kUnsupportedActivation: return "unsupported fused activation";
    case Status::kUnsupportedPadding: return "unsupported padding";
    case Status::kUnsupportedOptions: return "unsupported options";
    case Status::kUnsupportedQuantization: return "unsupported quantization for this op";
  }
  return "unknown status";
}

Status shape4_from_dims(const int32_t* dims, int32_t rank, Shape4* out) {
  if (rank < 0 || rank > 4) return Status::kBadShape;
  int32_t d[4] = {1, 1, 1, 1};
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0) return Status::kBadShape;
    d[4 - rank + i] = dims[i];
  }
  *out = Shape4{d[0], d[1], d[2], d[3]};
  return Status::kOk;
}

int32_t multiply_by_quantized_multiplier_shared(int32_t x, int32_t multiplier, int32_t shift) {
  return multiply_by_quantized_multiplier_inline(x, multiplier, shift);
}

int32_t round_to_i32_saturated(float f) {
  const float r = roundf(f);
  if (r >= 1073741824.0f) return 1073741824;
  if (r <= -1073741824.0f) return -1073741824;
  if (r != r) return 0;
  return static_cast<int32_t>(r);
}

bool sane_shape(const Shape4& s) {
  const int32_t d[4] = {s.n, s.h, s.w, s.c};
  int64_t total = 1;
  for (int32_t v : d) {
    if (v < 1 || v > (1 << 24)) return false;
    total *= v;
    if (total > INT32_MAX) return false;
  }
  return true;
}

bool valid_quant(QuantInfo q) {
  return q.scale > 0.0f && q.scale <= 3.4e38f && q.zero_point >= -128 && q.zero_point <= 127;
}

namespace {

// Positive finite float as m * 2^e with m in [2^23, 2^24) (subnormals normalised). Callers pass positive finite
// values; anything else still terminates (zero reads as the smallest subnormal) so a broken caller cannot hang.
void decompose(float f, uint64_t* m, int32_t* e) {
  QBUILD_KERNEL_ASSERT(f > 0.0f && f <= 3.4028235e38f);
  uint32_t bits = 0;
  memcpy(&bits, &f, sizeof(bits));
  const int32_t biased = static_cast<int32_t>((bits >> 23) & 0xff);
  uint32_t frac = bits & 0x7fffffu;
  if (biased == 0) {
    if (frac == 0) frac = 1;
    int32_t exp = -149;
    while ((frac & 0x800000u) == 0) {
      frac <<= 1;
      --exp;
    }
    *m = frac;
    *e = exp;
  } else {
    *m = frac | 0x800000u;
    *e = biased - 150;
  }
}

int32_t bit_length(uint64_t v) {
  int32_t n = 0;
  while (v != 0) {
    v >>= 1;
    ++n;
  }
  return n;
}

}  // namespace

uint64_t divide_u64(uint64_t n, uint32_t d, uint32_t* remainder) {
  QBUILD_KERNEL_ASSERT(d >= 1 && d < (1u << 31));
  uint64_t q = 0;
  uint32_t r = 0;  // < d < 2^31, so (r << 1) | bit fits
  for (int32_t bit = 63; bit >= 0; --bit) {
    r = (r << 1) | static_cast<uint32_t>((n >> bit) & 1u);
    q <<= 1;
    if (r >= d) {
      r -= d;
      q |= 1u;
    }
  }
  *remainder = r;
  return q;
}

Double53 ratio_as_double(float x, float y, float z) {
  uint64_t mx, my, mz;
  int32_t ex, ey, ez;
  decompose(x, &mx, &ex);
  decompose(y, &my, &ey);
  decompose(z, &mz, &ez);
  // x * y is exact in a double (48 bits). Long division by z in two steps gives 55..57 quotient bits + sticky.
  const uint64_t p = mx * my;
  const uint32_t z32 = static_cast<uint32_t>(mz);
  uint32_t r1 = 0;
  uint32_t r2 = 0;
  const uint64_t q1 = divide_u64(p, z32, &r1);
  const uint64_t q2 = divide_u64(static_cast<uint64_t>(r1) << 32, z32, &r2);
  const bool sticky = r2 != 0;
  const uint64_t q = (q1 << 32) | q2;
  int32_t drop = bit_length(q) - 53;
  uint64_t keep = q >> drop;
  const uint64_t rem = q & ((uint64_t{1} << drop) - 1);
  const uint64_t half = uint64_t{1} << (drop - 1);
  if (rem > half || (rem == half && (sticky || (keep & 1) != 0))) ++keep;  // round to nearest, ties to even
  if (keep == (uint64_t{1} << 53)) {
    keep >>= 1;
    ++drop;
  }
  return Double53{keep, ex + ey - ez - 32 + drop};
}

void quantize_double53(Double53 d, int32_t pow2, int32_t* multiplier, int32_t* shift) {
  // frexp: q = mantissa / 2^53 in [0.5, 1); round(q * 2^31) rounds half away from zero (values are positive).
  int64_t q_fixed = static_cast<int64_t>((d.mantissa + (uint64_t{1} << 21)) >> 22);
  int32_t exponent = d.exponent + 53 + pow2;
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {  // everything would be shifted out: TFLite flushes to zero
    exponent = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
}

void quantize_scale_ratio(float x, float y, float z, int32_t pow2, int32_t* multiplier, int32_t* shift) {
  if (x == 0.0f || y == 0.0f) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  quantize_double53(ratio_as_double(x, y, z), pow2, multiplier, shift);
}

Status filter_multipliers(float input_scale, const float* filter_scales, int32_t count, float output_scale,
                          int32_t* multipliers, int8_t* shifts, int32_t* multiplier, int32_t* shift) {
  for (int32_t i = 0; i < count; ++i) {
    const float fs = filter_scales[i];
    if (!(fs >= 0.0f && fs <= 3.4e38f)) return Status::kBadQuantization;
    int32_t m = 0;
    int32_t sh = 0;
    quantize_scale_ratio(input_scale, fs, output_scale, 0, &m, &sh);
    if (sh > 30) return Status::kBadQuantization;
    if (count > 1) {
      multipliers[i] = m;
      shifts[i] = static_cast<int8_t>(sh);  // in [-31, 30] (flushed below -31, refused above 30)
    } else {
      *multiplier = m;
      *shift = sh;
    }
  }
  return Status::kOk;
}

Status activation_range_of(Activation act, QuantInfo output, int32_t qmin, int32_t qmax, int32_t* act_min,
                           int32_t* act_max) {
  // TFLite quantizes the bounds in float, zero_point + (int)round(f / scale), and keeps them inside [qmin, qmax].
  float lo = 0.0f;  // RELU and RELU6: lower bound 0
  float hi = 6.0f;
  switch (act) {
    case Activation::kNone:
      *act_min = qmin;
      *act_max = qmax;
      return Status::kOk;
    case Activation::kRelu:
      hi = HUGE_VALF;  // quantizes to the saturated maximum whatever the scale: the upper bound stays qmax
      break;
    case Activation::kRelu6:
      break;
    case Activation::kReluN1To1:
      lo = -1.0f;
      hi = 1.0f;
      break;
    default:
      return Status::kUnsupportedActivation;
  }
  *act_min = clamp_i32(output.zero_point + round_to_i32_saturated(lo / output.scale), qmin, qmax);
  *act_max = clamp_i32(output.zero_point + round_to_i32_saturated(hi / output.scale), qmin, qmax);
  return Status::kOk;
}

Status activation_range(Activation act, QuantInfo output, int32_t* act_min, int32_t* act_max) {
  return activation_range_of(act, output, -128, 127, act_min, act_max);
}

}  // namespace kernels
}  // namespace qbuild
