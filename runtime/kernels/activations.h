// Standalone int8 activations: RELU, RELU6, LOGISTIC, TANH, HARD_SWISH. All elementwise over `size` values.
#ifndef QBUILD_KERNELS_ACTIVATIONS_H_
#define QBUILD_KERNELS_ACTIVATIONS_H_

#include "common.h"

namespace qbuild {
namespace kernels {

// RELU: requantizes input -> output and clamps at 0 (TFLM ReluQuantized).
struct ReluParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t act_min;
  int32_t act_max;
};
Status prepare_relu(QuantInfo input_q, QuantInfo output_q, ReluParams* params);
void eval_relu(const ReluParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

// RELU6: TFLM clamps the raw int8 values to [input zero point, 6.0 quantized with the input's scale] without
// requantizing, even when the output quantization differs (reproduced as is).
struct Relu6Params {
  int32_t lower;
  int32_t upper;
};
Status prepare_relu6(QuantInfo input_q, QuantInfo output_q, Relu6Params* params);
void eval_relu6(const Relu6Params& p, int32_t size, const int8_t* input_data, int8_t* output_data);

// LOGISTIC (output scale 1/256, zero point -128) and TANH (output scale 1/128, zero point 0).
struct SigmoidParams {
  int32_t input_zero_point;
  int32_t input_range_radius;
  int32_t input_multiplier;
  int32_t input_left_shift;
};
Status prepare_logistic(QuantInfo input_q, QuantInfo output_q, SigmoidParams* params);
void eval_logistic(const SigmoidParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);
Status prepare_tanh(QuantInfo input_q, QuantInfo output_q, SigmoidParams* params);
void eval_tanh(const SigmoidParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

struct HardSwishParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t reluish_multiplier_fixedpoint_int16;
  int32_t reluish_multiplier_exponent;
  int32_t output_multiplier_fixedpoint_int16;
  int32_t output_multiplier_exponent;
};
Status prepare_hard_swish(QuantInfo input_q, QuantInfo output_q, HardSwishParams* params);
void eval_hard_swish(const HardSwishParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_ACTIVATIONS_H_
