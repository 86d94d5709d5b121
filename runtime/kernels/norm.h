// The int8 pieces of LayerNormalization's graph: SQUARED_DIFFERENCE (broadcasting) and RSQRT, as TFLM computes them.
#ifndef QBUILD_KERNELS_NORM_H_
#define QBUILD_KERNELS_NORM_H_

#include "common.h"

namespace qbuild {
namespace kernels {

// (a - b)^2: both inputs rescaled to twice the larger scale with 7 bits of headroom, squared, then requantized.
struct SquaredDifferenceParams {
  int32_t input1_offset;
  int32_t input2_offset;
  int32_t output_offset;
  int32_t input1_multiplier;
  int32_t input1_shift;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_multiplier;
  int32_t output_shift;
};
Status prepare_squared_difference(QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q,
                                  SquaredDifferenceParams* params);
// Shapes broadcast as ADD's (check_broadcast in elementwise.h).
void eval_squared_difference(const SquaredDifferenceParams& p, const Shape4& in1, const int8_t* in1_data,
                             const Shape4& in2, const int8_t* in2_data, const Shape4& out, int8_t* out_data);

// RSQRT: 1/sqrt(x) by TFLite's fixed-point Newton iteration, then 1 / (sqrt(in_scale) * out_scale). TFLM computes
// that multiplier with a double sqrt, so prepare does too (the only double math in the kernels: on a core without a
// double FPU it links the soft-double helpers, only when RSQRT is in the image). Inputs below the zero point make
// TFLM fail the invoke: eval returns false there (after writing the values before it).
struct RsqrtParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;
  int32_t shift;
};
Status prepare_rsqrt(QuantInfo input_q, QuantInfo output_q, RsqrtParams* params);
bool eval_rsqrt(const RsqrtParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_NORM_H_
