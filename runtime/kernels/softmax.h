// SOFTMAX over the last axis, int8 in, int8 out (TFLM requires output scale 1/256, zero point -128).
#ifndef QBUILD_KERNELS_SOFTMAX_H_
#define QBUILD_KERNELS_SOFTMAX_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct SoftmaxParams {
  int32_t input_multiplier;
  int32_t input_left_shift;
  int32_t diff_min;
};

Status prepare_softmax(float beta, QuantInfo input_q, QuantInfo output_q, SoftmaxParams* params);

// outer_size rows of depth values each (depth = size of the last axis).
void eval_softmax(const SoftmaxParams& p, int32_t outer_size, int32_t depth, const int8_t* input_data,
                  int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_SOFTMAX_H_
