// Shared types and fixed-point helpers for qbuild's int8 kernels.
// Every kernel follows one convention (see README.md): a plain-data params struct, a pure
// prepare_<op>() that validates and precomputes from float scales, and a pure eval_<op>().
#ifndef QBUILD_KERNELS_COMMON_H_
#define QBUILD_KERNELS_COMMON_H_

#include <stdint.h>

#ifndef QBUILD_KERNEL_ASSERT
#ifdef QBUILD_KERNEL_DEBUG
#include <assert.h>
#define QBUILD_KERNEL_ASSERT(x) assert(x)
#else
#define QBUILD_KERNEL_ASSERT(x) ((void)0)
#endif
#endif

// Tuning knob: QBUILD_KERNELS_UNROLL = 1 computes four output channels per pass in CONV_2D and
// FULLY_CONNECTED (about 2x faster on the host; +~500 bytes of Cortex-M33 code at -Os). Results are identical either
// way. Default: on, except when optimizing for size (-Os defines __OPTIMIZE_SIZE__).
#ifndef QBUILD_KERNELS_UNROLL
#ifdef __OPTIMIZE_SIZE__
#define QBUILD_KERNELS_UNROLL 0
#else
#define QBUILD_KERNELS_UNROLL 1
#endif
#endif

// QBUILD_KERNELS_SHARED_REQUANTIZE = 1 calls one out-of-line copy of multiply_by_quantized_multiplier() instead of
// inlining it into every kernel (-386 bytes of Cortex-M33 code at -Os for the keyword-spotting op set; one call per
// output value, results identical). Default: on when optimizing for size (-Os), off otherwise.
#ifndef QBUILD_KERNELS_SHARED_REQUANTIZE
#ifdef __OPTIMIZE_SIZE__
#define QBUILD_KERNELS_SHARED_REQUANTIZE 1
#else
#define QBUILD_KERNELS_SHARED_REQUANTIZE 0
#endif
#endif

// QBUILD_KERNELS_DSP = 1 runs CONV_2D, DEPTHWISE_CONV_2D (depth multiplier 1) and FULLY_CONNECTED through the
// dual 16-bit MAC kernels of conv_dsp.cc (SXTB16 + SMLAD); same results as the portable loop. Default: on when the
// compiler targets the Arm DSP extension (Cortex-M4/M7/M33/M55), off elsewhere (hosts, Cortex-M0/M3).
#ifndef QBUILD_KERNELS_DSP
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define QBUILD_KERNELS_DSP 1
#else
#define QBUILD_KERNELS_DSP 0
#endif
#endif

namespace qbuild {
namespace kernels {

enum class Status : int32_t {
  kOk = 0,
  kBadShape,               // shapes disagree with each other or with the options
  kBadQuantization,        // scale <= 0 / non-finite, zero point out of int8 range, multiplier out of range
  kUnsupportedActivation,  // fused activation other than NONE / RELU / RELU_N1_TO_1 / RELU6
  kUnsupportedPadding,     // padding other than SAME / VALID
  kUnsupportedOptions,     // stride/dilation < 1, bad axes, ...
  kUnsupportedQuantization // e.g. softmax/logistic/tanh output not on the fixed scale TFLM requires
};

const char* status_name(Status s);

// Values equal TFLite's ActivationFunctionType so the loader can cast directly.
enum class Activation : int32_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4, kSignBit = 5 };

// Values equal TFLite's Padding enum.
enum class Padding : int32_t { kSame = 0, kValid = 1 };

// NHWC. Lower-rank tensors are extended with leading 1s (a [N, C] tensor is {1, 1, N, C}; see shape4_from_dims).
struct Shape4 {
  int32_t n;
  int32_t h;
  int32_t w;
  int32_t c;
};

// Per-tensor quantization of an activation tensor, straight from the .tflite.
struct QuantInfo {
  float scale;
  int32_t zero_point;
};

// Right-aligns dims (rank 0..4) into a Shape4, padding with leading 1s. kBadShape for rank > 4 or a negative dim.
Status shape4_from_dims(const int32_t* dims, int32_t rank, Shape4* out);

// Every dim in [1, 2^24] and at most 2^31 - 1 elements, so eval's int32 index math cannot overflow.
bool sane_shape(const Shape4& s);

// scale finite and > 0, zero point in int8 range.
bool valid_quant(QuantInfo q);

inline int32_t flat_size(const Shape4& s) { return s.n * s.h * s.w * s.c; }

// ---- TFLite quantized-multiplier arithmetic (double rounding, the default TFLite/TFLM build) ----

// TFLite's QuantizeMultiplier(double(x) * double(y) / double(z) * 2^pow2): the result ~= multiplier * 2^(shift - 31),
// multiplier in [2^30, 2^31). x, y >= 0 (a zero gives (0, 0)), z > 0, all finite; results below 2^-31 flush to
// (0, 0) as in TFLite. Computed exactly with integers (the double product is exact, the quotient is rounded to
// nearest-even at 53 bits like an IEEE double division), so Cortex-M33 firmware needs no soft-double code.
void quantize_scale_ratio(float x, float y, float z, int32_t pow2, int32_t* multiplier, int32_t* shift);

// n / d and n % d for d in [1, 2^31): binary long division, so 32-bit targets need no 64-bit division helper from
// libgcc (__aeabi_uldivmod + __udivmoddi4: ~950 bytes of Cortex-M33 code).
uint64_t divide_u64(uint64_t n, uint32_t d, uint32_t* remainder);

// A positive value as mantissa * 2^exponent, mantissa in [2^52, 2^53): what a double holds.
struct Double53 {
  uint64_t mantissa;
  int32_t exponent;
};

// double(x) * double(y) / double(z), rounded like the IEEE double operations (x, y, z > 0, finite).
Double53 ratio_as_double(float x, float y, float z);

// TFLite's QuantizeMultiplier of an exact double value times 2^pow2.
void quantize_double53(Double53 d, int32_t pow2, int32_t* multiplier, int32_t* shift);

// TFLite's PopulateConvolutionQuantizationParams (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): for each filter
// scale, quantize_scale_ratio(input_scale, filter_scales[i], output_scale) into multipliers[i] / shifts[i] when
// count > 1 (shifts as int8: every shift is in [-31, 30]), else into *multiplier / *shift. kBadQuantization for a negative or non-finite filter scale or a
// multiplier too small to represent (shift > 30).
Status filter_multipliers(float input_scale, const float* filter_scales, int32_t count, float output_scale,
                          int32_t* multipliers, int8_t* shifts, int32_t* multiplier, int32_t* shift);

// Int8 clamp bounds for a fused activation on an output with this quantization (TFLite's
// CalculateActivationRangeQuantized). kUnsupportedActivation for TANH / SIGN_BIT.
Status activation_range(Activation act, QuantInfo output, int32_t* act_min, int32_t* act_max);
// The same for any output range (int16 outputs: [-32768, 32767]).
Status activation_range_of(Activation act, QuantInfo output, int32_t qmin, int32_t qmax, int32_t* act_min,
                           int32_t* act_max);

inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Division (not >>) because gemmlowp truncates toward zero.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// Round-half-away-from-zero division by 2^exponent, exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  QBUILD_KERNEL_ASSERT(exponent >= 0 && exponent <= 31);
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite's MultiplyByQuantizedMultiplier(int32 x, multiplier, shift).
inline int32_t multiply_by_quantized_multiplier_inline(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

// The same, compiled once in common.cc (always defined, whatever the knob).
int32_t multiply_by_quantized_multiplier_shared(int32_t x, int32_t multiplier, int32_t shift);

inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
#if QBUILD_KERNELS_SHARED_REQUANTIZE
  return multiply_by_quantized_multiplier_shared(x, multiplier, shift);
#else
  return multiply_by_quantized_multiplier_inline(x, multiplier, shift);
#endif
}

inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// (int32_t)roundf(f) for |f| < 2^30, saturated beyond (and 0 for NaN), so extreme scales cannot hit UB.
int32_t round_to_i32_saturated(float f);

// Wrapping int32 add (accumulator + bias), defined whatever the compiler flags.
inline int32_t add_wrap(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_COMMON_H_
