// MEAN over any subset of the 4 axes of a (rank <= 4) int8 tensor, int8 output with its own quantization.
#ifndef QBUILD_KERNELS_REDUCE_H_
#define QBUILD_KERNELS_REDUCE_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct MeanParams {
  int32_t axis_mask;  // bit i set: Shape4 axis i (0=n,1=h,2=w,3=c) is reduced
  int32_t num_elements;  // elements averaged per output value
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;  // input_scale / output_scale / num_elements, as TFLM folds it
  int32_t shift;
};

// axes: the op's axis tensor (negative values allowed, duplicates ignored), relative to input_rank (<= 4);
// input is the Shape4 built from the input dims with shape4_from_dims. keep_dims only changes the output shape.
Status prepare_mean(const Shape4& input, int32_t input_rank, const int32_t* axes, int32_t num_axes,
                    QuantInfo input_q, QuantInfo output_q, MeanParams* params);

// Output values are laid out in input order with the reduced axes removed (same bytes for keep_dims either way).
void eval_mean(const MeanParams& p, const Shape4& input, const int8_t* input_data, int8_t* output_data);

// REDUCE_MAX: the largest raw int8 value over the reduced axes, copied without requantizing: input and output must
// share one quantization (TFLM fails the op otherwise).
struct ReduceMaxParams {
  int32_t axis_mask;  // as MeanParams
};
Status prepare_reduce_max(const Shape4& input, int32_t input_rank, const int32_t* axes, int32_t num_axes,
                          QuantInfo input_q, QuantInfo output_q, ReduceMaxParams* params);
void eval_reduce_max(const ReduceMaxParams& p, const Shape4& input, const int8_t* input_data, int8_t* output_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_REDUCE_H_
