// AVERAGE_POOL_2D and MAX_POOL_2D (int8; input and output share one quantization, as TFLM requires).
#ifndef QBUILD_KERNELS_POOLING_H_
#define QBUILD_KERNELS_POOLING_H_

#include "conv.h"

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

// Both pools fill a ConvParams (conv.h): kind kAveragePool or kMaxPool, no zero-point offsets, the activation clamp
// from output_q. AVERAGE_POOL_2D then runs through eval_conv(); MAX_POOL_2D through eval_max_pool().
Status prepare_pool(const PoolOptions& opt, WindowKind kind, const Shape4& input, const Shape4& output,
                    QuantInfo input_q, QuantInfo output_q, ConvParams* params);

void eval_max_pool(const ConvParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                   int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_POOLING_H_
