#include "quantize.h"

#include <math.h>

namespace qbuild {
namespace kernels {

Status prepare_quantize(QuantInfo output_q, QuantizeParams* params) {
  if (!valid_quant(output_q)) return Status::kBadQuantization;
  params->scale = output_q.scale;
  params->zero_point = output_q.zero_point;
  return Status::kOk;
}

void eval_quantize(const QuantizeParams& p, int32_t size, const float* input_data, int8_t* output_data) {
  // TFLM divides in float and rounds half away from zero (measured on exact .5 ties: a double division differs).
  const float scale = p.scale;
  for (int32_t i = 0; i < size; ++i) {
    const float q = roundf(input_data[i] / scale);
    // Saturate before the int conversion (TFLM's cast is undefined beyond int32; NaN -> zero point).
    int32_t v;
    if (q >= 1000.0f) {
      v = 1000;
    } else if (q <= -1000.0f) {
      v = -1000;
    } else if (q == q) {
      v = static_cast<int32_t>(q);
    } else {
      v = 0;
    }
    output_data[i] = static_cast<int8_t>(clamp_i32(v + p.zero_point, -128, 127));
  }
}

Status prepare_requantize(QuantInfo input_q, QuantInfo output_q, RequantizeParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  RequantizeParams r{};
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  quantize_scale_ratio(input_q.scale, 1.0f, output_q.scale, 0, &r.multiplier, &r.shift);
  if (r.shift > 30) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_requantize(const RequantizeParams& p, int32_t size, const int8_t* input_data, int8_t* output_data) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = multiply_by_quantized_multiplier(static_cast<int32_t>(input_data[i]) - p.input_zero_point,
                                                       p.multiplier, p.shift) +
                      p.output_zero_point;
    output_data[i] = static_cast<int8_t>(clamp_i32(v, -128, 127));
  }
}

Status prepare_dequantize(QuantInfo input_q, DequantizeParams* params) {
  if (!valid_quant(input_q)) return Status::kBadQuantization;
  params->scale = input_q.scale;
  params->zero_point = input_q.zero_point;
  return Status::kOk;
}

void eval_dequantize(const DequantizeParams& p, int32_t size, const int8_t* input_data, float* output_data) {
  // TFLM multiplies in double and rounds to float. For |q - zp| <= 255 the double product is exact, so one
  // correctly rounded float multiply gives the same bits (and stays on the single-precision FPU).
  for (int32_t i = 0; i < size; ++i) {
    output_data[i] = p.scale * static_cast<float>(static_cast<int32_t>(input_data[i]) - p.zero_point);
  }
}

}  // namespace kernels
}  // namespace qbuild
