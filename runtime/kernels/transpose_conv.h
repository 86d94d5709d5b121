// TRANSPOSE_CONV, int8 activations, int8 weights (symmetric, per channel or per tensor), optional int32 bias.
#ifndef QBUILD_KERNELS_TRANSPOSE_CONV_H_
#define QBUILD_KERNELS_TRANSPOSE_CONV_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct TransposeConvParams {
  int32_t stride_h;
  int32_t stride_w;
  int32_t pad_h;  // top/left padding of the equivalent forward conv (output -> input)
  int32_t pad_w;
  int32_t input_offset;
  int32_t output_offset;
};

// filter {out_c, kh, kw, in_c} (OHWI, as CONV_2D); the output size must be one the forward conv with these options
// maps back onto the input (what the converter writes). TFLM ignores the fused activation (it prepares with
// kTfLiteActNone): anything but NONE is rejected. multipliers/shifts: caller arrays of output.c int32 / int8 each, always
// filled (TFLM keeps per-channel arrays even for a per-tensor filter).
Status prepare_transpose_conv(Padding padding, int32_t stride_h, int32_t stride_w, Activation act,
                              const Shape4& input, const Shape4& filter, const Shape4& output, QuantInfo input_q,
                              const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                              int32_t* multipliers, int8_t* shifts, TransposeConvParams* params);

// scratch: flat_size(output) int32 accumulators (TFLM's scratch buffer).
void eval_transpose_conv(const TransposeConvParams& p, const int32_t* multipliers, const int8_t* shifts,
                         const Shape4& input, const int8_t* input_data, const Shape4& filter,
                         const int8_t* filter_data, const int32_t* bias, const Shape4& output, int8_t* output_data,
                         int32_t* scratch);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_TRANSPOSE_CONV_H_
