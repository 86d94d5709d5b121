// Conversions between the runtime's TensorView and the kernels' plain shapes/quantization.
#ifndef QBUILD_SRC_OPS_GLUE_H_
#define QBUILD_SRC_OPS_GLUE_H_

#include "../../kernels/kernels.h"
#include "ops.h"

namespace qbuild {
namespace ops {

namespace k = kernels;

// Right-aligned NHWC shape; callers check rank <= 4 in Prepare. Out of line: called from every glue.
k::Shape4 shape4(const TensorView& t);

inline k::QuantInfo quant(const TensorView& t) { return k::QuantInfo{t.params.scale, t.params.zero_point}; }

inline Status from(k::Status s) { return from_kernel(static_cast<int32_t>(s)); }

// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: input, constant filter of rank `filter_rank`, optional bias; one
// output. Activations and filter int8.
bool weighted_io(const OpContext& ctx, int32_t filter_rank);
// The optional bias (input 2) of a weighted op: absent, or int32 with `channels` values.
bool bias_ok(const OpContext& ctx, int32_t channels);
// Two inputs and one output, all of `type`, rank <= 4, the inputs broadcasting to the output (ADD, SUB, MUL,
// MAXIMUM, MINIMUM, SQUARED_DIFFERENCE). kBadOpParams / kBadShape.
Status broadcast_io(const OpContext& ctx, TensorType type);

// What every weighted op's eval (int8 and int16) reads from its op data and tensors: the kernel shapes, where
// FULLY_CONNECTED (rank-2 filter) runs as a 1x1 conv over the input flattened to batches x accum_depth, and the
// per-channel multipliers/shifts (nullptr per tensor) stored after the kernel params (see WeightQuant).
struct WeightedView {
  k::Shape4 in;
  k::Shape4 out;
  const int32_t* multipliers;
  const int8_t* shifts;
};
WeightedView weighted_view(OpContext& ctx, const k::ConvParams& p);

// AVERAGE_POOL_2D / MAX_POOL_2D prepare for activations of `type` (int8, int16): checks, options, the kernel params
// with an int8 activation range (int16 callers redo it with `options->activation`). Helpers here are not named
// prepare_*/eval_*: those names are the op entry points, which the tests look for in linked ELFs.
Status pool_setup(OpContext& ctx, k::WindowKind kind, TensorType type, k::PoolOptions* options,
                  k::ConvParams** params);

// The filter scales of a weighted op (input 1: per tensor or per channel, `channels` of them, quantized along
// `qdim` unless qdim < 0) and its persistent data: the kernel params (`params_bytes`), then per channel only
// int32 multipliers[channels] and int8 shifts[channels], each block 8-byte aligned. kBadQuantization / kArenaTooSmall.
struct WeightQuant {
  const float* scales;
  uint32_t count;
  void* params;
  int32_t* multipliers;  // null per tensor
  int8_t* shifts;
};
Status weight_quant(OpContext& ctx, int32_t channels, int32_t qdim, uint32_t params_bytes, WeightQuant* w);

// One int8 input and one int8 output of the same shape (the elementwise activations).
inline bool unary_int8(const OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  return ctx.input_count() == 1 && ctx.output_count() == 1 && is_int8(in) && is_int8(out) && same_shape(*in, *out);
}

}  // namespace ops
}  // namespace qbuild

#endif  // QBUILD_SRC_OPS_GLUE_H_
