// CONV_2D and DEPTHWISE_CONV_2D, int8 activations, int8 weights (symmetric), int32 bias.
#ifndef QBUILD_KERNELS_CONV_H_
#define QBUILD_KERNELS_CONV_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct ConvOptions {
  Padding padding;
  int32_t stride_h;
  int32_t stride_w;
  int32_t dilation_h;
  int32_t dilation_w;
  Activation activation;
  int32_t depth_multiplier;  // DEPTHWISE_CONV_2D only (ignored by conv); 0 means "derive from shapes"
};

// Shared by conv and depthwise conv.
struct ConvParams {
  int32_t stride_h;
  int32_t stride_w;
  int32_t dilation_h;
  int32_t dilation_w;
  int32_t pad_h;          // top padding
  int32_t pad_w;          // left padding
  int32_t input_offset;   // -input zero point
  int32_t output_offset;  // output zero point
  int32_t act_min;
  int32_t act_max;
  int32_t depth_multiplier;  // depthwise only
  int32_t per_channel;       // 1: use the caller's multipliers/shifts arrays; 0: output_multiplier/output_shift
  int32_t output_multiplier;
  int32_t output_shift;
};

// Filter scales: num_filter_scales == 1 (per-tensor) or == output channels (per-channel).
// multipliers/shifts: caller-owned arrays of `output.c` int32 each, written here and read by eval; required when
// num_filter_scales > 1, may be nullptr for per-tensor (then nothing is written).
// conv filter: {out_c, kh, kw, in_c / groups} (OHWI); groups = input.c / filter.c must divide output.c.
Status prepare_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                    QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                    int32_t* multipliers, int32_t* shifts, ConvParams* params);

// bias: output.c int32 values or nullptr. multipliers/shifts as filled by prepare (nullptr when per-tensor).
void eval_conv(const ConvParams& p, const int32_t* multipliers, const int32_t* shifts, const Shape4& input,
               const int8_t* input_data, const Shape4& filter, const int8_t* filter_data, const int32_t* bias,
               const Shape4& output, int8_t* output_data);

// depthwise filter: {1, kh, kw, out_c}, out_c = in_c * depth_multiplier.
Status prepare_depthwise_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter,
                              const Shape4& output, QuantInfo input_q, const float* filter_scales,
                              int32_t num_filter_scales, QuantInfo output_q, int32_t* multipliers,
                              int32_t* shifts, ConvParams* params);

void eval_depthwise_conv(const ConvParams& p, const int32_t* multipliers, const int32_t* shifts,
                         const Shape4& input, const int8_t* input_data, const Shape4& filter,
                         const int8_t* filter_data, const int32_t* bias, const Shape4& output,
                         int8_t* output_data);

// TFLite's output size for a padding scheme (helper for loaders computing expected shapes). -1 if invalid.
int32_t conv_output_size(Padding padding, int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation);

// TFLite's ComputePaddingWithOffset: the top/left half of the total padding (the odd pixel goes bottom/right). Only
// valid once conv_output_size() accepted the same terms (all bounded to 2^24, so int64 keeps it exact).
int32_t leading_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size, int32_t out_size);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_CONV_H_
