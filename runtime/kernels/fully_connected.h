// FULLY_CONNECTED, int8 activations, int8 weights {out_depth, accum_depth}, int32 bias.
#ifndef QBUILD_KERNELS_FULLY_CONNECTED_H_
#define QBUILD_KERNELS_FULLY_CONNECTED_H_

#include "conv.h"

namespace qbuild {
namespace kernels {

// A 1x1 convolution over `batches` pixels of `accum_depth` channels (conv.h): prepare fills a ConvParams (kind kConv,
// filter_offset = -filter_zero_point for per-tensor weights; TFLM ignores the zero point of per-channel weights). keep_num_dims does not change the arithmetic, only the output shape: the caller
// flattens the input to batches x accum_depth (batches = input elements / accum_depth, accum_depth = filter dim 1).
// num_filter_scales: 1 (per-tensor) or output_depth (per-channel; multipliers/shifts then required, output_depth each).
Status prepare_fully_connected(Activation act, int32_t batches, int32_t accum_depth, int32_t output_depth,
                               QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales,
                               int32_t filter_zero_point, QuantInfo output_q, int32_t* multipliers, int8_t* shifts,
                               ConvParams* params);

void eval_fully_connected(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, int32_t batches,
                          int32_t accum_depth, int32_t output_depth, const int8_t* input_data,
                          const int8_t* filter_data, const int32_t* bias, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_FULLY_CONNECTED_H_
