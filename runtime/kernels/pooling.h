// AVERAGE_POOL_2D and MAX_POOL_2D (int8; input and output share one quantization, as TFLM requires).
#ifndef QBUILD_KERNELS_POOLING_H_
#define QBUILD_KERNELS_POOLING_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct PoolOptions {
  Padding padding;
  int32_t stride_h;
  int32_t stride_w;
  int32_t filter_h;
  int32_t filter_w;
  Activation activation;
};

struct PoolParams {
  int32_t stride_h;
  int32_t stride_w;
  int32_t filter_h;
  int32_t filter_w;
  int32_t pad_h;
  int32_t pad_w;
  int32_t act_min;
  int32_t act_max;
};

// Same prepare for both pools. output_q is used for the fused activation range.
Status prepare_pool(const PoolOptions& opt, const Shape4& input, const Shape4& output, QuantInfo input_q,
                    QuantInfo output_q, PoolParams* params);

void eval_average_pool(const PoolParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                       int8_t* output_data);
void eval_max_pool(const PoolParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                   int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_POOLING_H_
