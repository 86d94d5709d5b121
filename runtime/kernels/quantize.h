// QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
#ifndef QBUILD_KERNELS_QUANTIZE_H_
#define QBUILD_KERNELS_QUANTIZE_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct QuantizeParams {
  float scale;  // output scale; value / scale in float, rounded half away from zero, as TFLM does
  int32_t zero_point;
};
Status prepare_quantize(QuantInfo output_q, QuantizeParams* params);
void eval_quantize(const QuantizeParams& p, int32_t size, const float* input_data, int8_t* output_data);

struct RequantizeParams {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;
  int32_t shift;
};
Status prepare_requantize(QuantInfo input_q, QuantInfo output_q, RequantizeParams* params);
void eval_requantize(const RequantizeParams& p, int32_t size, const int8_t* input_data, int8_t* output_data);

struct DequantizeParams {
  float scale;
  int32_t zero_point;
};
Status prepare_dequantize(QuantInfo input_q, DequantizeParams* params);
void eval_dequantize(const DequantizeParams& p, int32_t size, const int8_t* input_data, float* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_QUANTIZE_H_
