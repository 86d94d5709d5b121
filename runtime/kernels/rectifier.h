// LEAKY_RELU and PRELU, int8: the two slopes of a rectifier, each requantized with its own multiplier.
#ifndef QBUILD_KERNELS_RECTIFIER_H_
#define QBUILD_KERNELS_RECTIFIER_H_

#include "common.h"

namespace qbuild {
namespace kernels {

// LEAKY_RELU: x >= 0 -> x * in/out, x < 0 -> x * alpha * in/out (x relative to the input zero point).
struct LeakyReluParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t identity_multiplier;
  int32_t identity_shift;
  int32_t alpha_multiplier;
  int32_t alpha_shift;
};
// TFLM computes both ratios in float (in_scale * alpha / out_scale, in_scale / out_scale) and only then widens them
// to double: reproduced here (a double product differs in the last bit for some scales).
Status prepare_leaky_relu(float alpha, QuantInfo input_q, QuantInfo output_q, LeakyReluParams* params);
void eval_leaky_relu(const LeakyReluParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

// PRELU: the slope is a tensor (int8, its own quantization) broadcast against the input over up to 4 dims.
struct PreluParams {
  int32_t input_offset;  // -zero point
  int32_t alpha_offset;  // -zero point
  int32_t output_offset;
  int32_t identity_multiplier;  // in / out, in double
  int32_t identity_shift;
  int32_t alpha_multiplier;  // in * alpha / out, in double
  int32_t alpha_shift;
};
Status prepare_prelu(QuantInfo input_q, QuantInfo alpha_q, QuantInfo output_q, PreluParams* params);
// alpha broadcasts to input (check_broadcast(input, alpha, output) in elementwise.h); output has input's shape.
void eval_prelu(const PreluParams& p, const Shape4& input, const int8_t* input_data, const Shape4& alpha,
                const int8_t* alpha_data, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_RECTIFIER_H_
