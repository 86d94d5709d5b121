// RESIZE_BILINEAR, int8 (UpSampling2D(interpolation='bilinear')): TFLite's integer-only interpolation with 10-bit
// fixed-point coordinates; input and output share one quantization, values are not requantized.
#ifndef QBUILD_KERNELS_RESIZE_H_
#define QBUILD_KERNELS_RESIZE_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct ResizeBilinearParams {
  int32_t height_scale_10;  // input / output size in Q10, rounded
  int32_t width_scale_10;
  int32_t half_pixel_centers;
};

Status prepare_resize_bilinear(const Shape4& input, const Shape4& output, bool align_corners, bool half_pixel_centers,
                               QuantInfo input_q, QuantInfo output_q, ResizeBilinearParams* params);
void eval_resize_bilinear(const ResizeBilinearParams& p, const Shape4& input, const int8_t* input_data,
                          const Shape4& output, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_RESIZE_H_
