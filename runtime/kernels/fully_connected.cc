#include "fully_connected.h"

namespace qbuild {
namespace kernels {

Status prepare_fully_connected(Activation act, int32_t batches, int32_t accum_depth, int32_t output_depth,
                               QuantInfo input_q, const float* filter_scales, int32_t num_filter_scales,
                               int32_t filter_zero_point, QuantInfo output_q, int32_t* multipliers, int8_t* shifts,
                               ConvParams* params) {
  if (filter_zero_point < -128 || filter_zero_point > 127) return Status::kBadQuantization;
  const ConvOptions opt{Padding::kValid, 1, 1, 1, 1, act, 0};
  // Double product for per-tensor and per-channel alike (a float in*filter product differs; measured with
  // biases chosen where the two disagree: test_fc_per_tensor_multiplier_is_a_double_product).
  const Status s = prepare_conv(opt, Shape4{1, 1, batches, accum_depth}, Shape4{output_depth, 1, 1, accum_depth},
                                Shape4{1, 1, batches, output_depth}, input_q, filter_scales, num_filter_scales,
                                output_q, multipliers, shifts, params);
  // TFLM applies a weight zero point only on its per-tensor path (FullyConnectedPerChannel has no filter offset).
  if (s == Status::kOk && num_filter_scales == 1) params->filter_offset = -filter_zero_point;
  return s;
}

void eval_fully_connected(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, int32_t batches,
                          int32_t accum_depth, int32_t output_depth, const int8_t* input_data,
                          const int8_t* filter_data, const int32_t* bias, int8_t* output_data) {
  eval_conv(p, multipliers, shifts, Shape4{1, 1, batches, accum_depth}, input_data, filter_data, bias,
            Shape4{1, 1, batches, output_depth}, output_data);
}

}  // namespace kernels
}  // namespace qbuild
