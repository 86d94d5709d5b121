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

// The window ops: every output value is a sum over a window of the input (weighted by a filter or not), then
// requantized or averaged, then clamped. One params struct and one eval loop serve CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED (a 1x1 conv over `batches` pixels), AVERAGE_POOL_2D and (with its own reduction) MAX_POOL_2D.
enum class WindowKind : int32_t {
  kConv = 0,         // filter OHWI {out_c, kh, kw, depth}; input channel group of oc = oc / (out_c / groups)
  kDepthwise = 1,    // filter {1, kh, kw, out_c}; output channel oc reads input channel oc / (out_c / in_c)
  kAveragePool = 2,  // no filter: sum of the in-bounds taps divided by their count (rounded half away from zero)
  kMaxPool = 3,      // no filter: maximum of the in-bounds taps (eval_max_pool)
};

struct ConvParams {
  int32_t stride_h;
  int32_t stride_w;
  int32_t dilation_h;
  int32_t dilation_w;
  int32_t pad_h;          // top padding
  int32_t pad_w;          // left padding
  int32_t filter_h;       // window size
  int32_t filter_w;
  int32_t depth;          // kConv: input channels summed per tap (in_c / groups); 1 otherwise
  WindowKind kind;
  int32_t input_offset;   // -input zero point (0 for the pools)
  int32_t filter_offset;  // -filter zero point: FULLY_CONNECTED only (eval assumes a 1x1 window and one group)
  int32_t output_offset;  // output zero point (0 for the pools)
  int32_t act_min;
  int32_t act_max;
  int32_t per_channel;       // 1: use the caller's multipliers/shifts arrays; 0: output_multiplier/output_shift
  int32_t output_multiplier;
  int32_t output_shift;
};

// Filter scales: num_filter_scales == 1 (per-tensor) or == output channels (per-channel).
// multipliers/shifts: caller-owned arrays of `output.c` int32 / int8 each, written here and read by eval; required when
// num_filter_scales > 1, may be nullptr for per-tensor (then nothing is written).
// conv filter: {out_c, kh, kw, in_c / groups} (OHWI); groups = input.c / filter.c must divide output.c.
Status prepare_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter, const Shape4& output,
                    QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales, QuantInfo output_q,
                    int32_t* multipliers, int8_t* shifts, ConvParams* params);

// depthwise filter: {1, kh, kw, out_c}, out_c = in_c * depth_multiplier.
Status prepare_depthwise_conv(const ConvOptions& opt, const Shape4& input, const Shape4& filter,
                              const Shape4& output, QuantInfo input_q, const float* filter_scales,
                              int32_t num_filter_scales, QuantInfo output_q, int32_t* multipliers,
                              int8_t* shifts, ConvParams* params);

// Every window op but MAX_POOL_2D (p.kind says which). filter_data: the filter of kConv / kDepthwise, ignored by
// kAveragePool. bias: output.c int32 values or nullptr. multipliers/shifts as filled by prepare (nullptr when
// per-tensor).
void eval_conv(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const Shape4& input,
               const int8_t* input_data, const int8_t* filter_data, const int32_t* bias, const Shape4& output,
               int8_t* output_data);

// The DSP-extension kernels (conv_dsp.cc, QBUILD_KERNELS_DSP): eval_conv() tries them first. Same arguments;
// false when the op is not one they take (grouped conv, depth multiplier > 1, FC weight zero point, pools).
bool eval_conv_dsp(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const Shape4& input,
                   const int8_t* input_data, const int8_t* filter_data, const int32_t* bias, const Shape4& output,
                   int8_t* output_data);

// Window geometry shared by every window op: checks options, shapes and quantization, fills strides, dilation,
// padding, window size, zero-point offsets and the activation clamp of `p` (nothing else).
Status prepare_window(const ConvOptions& opt, int32_t filter_h, int32_t filter_w, const Shape4& input,
                      const Shape4& output, QuantInfo input_q, QuantInfo output_q, ConvParams* p);

// TFLite's output size for a padding scheme (helper for loaders computing expected shapes). -1 if invalid.
int32_t conv_output_size(Padding padding, int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation);

// TFLite's ComputePaddingWithOffset: the top/left half of the total padding (the odd pixel goes bottom/right). Only
// valid once conv_output_size() accepted the same terms (all bounded to 2^24, so int64 keeps it exact).
int32_t leading_padding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter_size, int32_t out_size);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_CONV_H_
