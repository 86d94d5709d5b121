// The 16x8 kernels: int16 activations (zero point 0, as TFLite's 16x8 quantization writes them), int8 weights,
// int32 or int64 bias. Bit-exact with TFLM's reference int16 kernels (tests/test_int16.py). The window ops reuse the
// int8 prepare functions (same geometry, same double-rounded multipliers) and then widen the activation clamp with
// to_int16(); everything else here is the int16 arithmetic.
#ifndef QBUILD_KERNELS_INT16_H_
#define QBUILD_KERNELS_INT16_H_

#include "conv.h"
#include "quantize.h"
#include "reduce.h"

namespace qbuild {
namespace kernels {

// Int16 clamp bounds of a fused activation (TFLite's CalculateActivationRangeQuantized for an int16 output).
Status activation_range16(Activation act, QuantInfo output, int32_t* act_min, int32_t* act_max);

// A window op's params prepared by the int8 prepare_* made int16: zero points must be 0 (TFLM checks it), the clamp
// becomes the int16 one, and every shift must suit the int64 requantization (shift <= 14). `shifts` as given to
// prepare (nullptr per tensor).
Status to_int16(Activation act, QuantInfo input_q, QuantInfo output_q, const int8_t* shifts, int32_t channels,
                ConvParams* p);

// TFLite's MultiplyByQuantizedMultiplier(int64_t x, ...): the multiplier rounded to 16 bits, one rounding shift.
inline int32_t multiply_by_quantized_multiplier64(int64_t x, int32_t multiplier, int32_t shift) {
  const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int32_t total_shift = 15 - shift;  // shift <= 14 (to_int16) and >= -31: 1..46
  const uint64_t round = uint64_t{1} << (total_shift - 1);
  const int64_t r = static_cast<int64_t>(static_cast<uint64_t>(x) * static_cast<uint64_t>(int64_t{reduced}) + round);
  return static_cast<int32_t>(r >> total_shift);
}

// TFLM's two int16 paths: an int32 accumulator with the int32 requantization, or an int64 one with
// multiply_by_quantized_multiplier64. DEPTHWISE_CONV_2D and FULLY_CONNECTED always take the int64 path (measured: an FC
// without bias rounds as the int64 requantization does), CONV_2D only with an int64 bias (int32 bias or none: int32).
enum class Accumulator : int32_t { kInt32 = 0, kInt64 = 1 };

// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (as a 1x1 conv) and AVERAGE_POOL_2D (accumulator ignored) on int16
// activations. Pass at most one of bias32 / bias64.
void eval_conv16(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const Shape4& input,
                 const int16_t* input_data, const int8_t* filter_data, const int32_t* bias32, const int64_t* bias64,
                 Accumulator accumulator, const Shape4& output, int16_t* output_data);

void eval_max_pool16(const ConvParams& p, const Shape4& input, const int16_t* input_data, const Shape4& output,
                     int16_t* output_data);

// MEAN with the params of prepare_mean (TFLM's QuantizedMeanOrSum, int16 clamp).
void eval_mean16(const MeanParams& p, const Shape4& input, const int16_t* input_data, int16_t* output_data);

// SOFTMAX int16 -> int16 (input zero point 0, output 1/32768 zero point 0): TFLM's two 513-entry lookup tables
// (exp on [-10, 0] and 1/(1+x) on [0, 1]), which depend on nothing in the model, so they are constants in flash
// (softmax16_lut.h) instead of 2 KB of arena per op.
struct Softmax16Params {
  int32_t input_multiplier;  // input_scale * beta / (10 / 65535), as a quantized multiplier
  int32_t input_left_shift;
  int32_t reserved;          // same size as SoftmaxParams: the planner's op data does not depend on the type
};
Status prepare_softmax16(float beta, QuantInfo input_q, QuantInfo output_q, Softmax16Params* params);
void eval_softmax16(const Softmax16Params& p, int32_t outer_size, int32_t depth, const int16_t* input_data,
                    int16_t* output_data);

// QUANTIZE float32 -> int16 (float division, rounded half away from zero, saturated) and DEQUANTIZE int16 -> float32.
void eval_quantize16(const QuantizeParams& p, int32_t size, const float* input_data, int16_t* output_data);
void eval_dequantize16(const DequantizeParams& p, int32_t size, const int16_t* input_data, float* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_INT16_H_
