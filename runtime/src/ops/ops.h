// Prepare/Eval entry points of every op glue (one pair per op), registered in registry.cc.
#ifndef QBUILD_SRC_OPS_OPS_H_
#define QBUILD_SRC_OPS_OPS_H_

#include "op.h"

namespace qbuild {
namespace ops {

#define QBUILD_DECLARE_OP(name)      \
  Status prepare_##name(OpContext&); \
  Status eval_##name(OpContext&);

QBUILD_DECLARE_OP(add)
QBUILD_DECLARE_OP(average_pool_2d)
QBUILD_DECLARE_OP(concatenation)
QBUILD_DECLARE_OP(conv_2d)
QBUILD_DECLARE_OP(depthwise_conv_2d)
QBUILD_DECLARE_OP(dequantize)
QBUILD_DECLARE_OP(fully_connected)
QBUILD_DECLARE_OP(hard_swish)
QBUILD_DECLARE_OP(leaky_relu)
QBUILD_DECLARE_OP(logistic)
QBUILD_DECLARE_OP(max_pool_2d)
QBUILD_DECLARE_OP(maximum)
QBUILD_DECLARE_OP(mean)
QBUILD_DECLARE_OP(minimum)
QBUILD_DECLARE_OP(mul)
QBUILD_DECLARE_OP(neg)
QBUILD_DECLARE_OP(pack)
QBUILD_DECLARE_OP(pad)
QBUILD_DECLARE_OP(prelu)
QBUILD_DECLARE_OP(quantize)
QBUILD_DECLARE_OP(reduce_max)
QBUILD_DECLARE_OP(relu)
QBUILD_DECLARE_OP(relu6)
QBUILD_DECLARE_OP(reshape)
QBUILD_DECLARE_OP(resize_bilinear)
QBUILD_DECLARE_OP(rsqrt)
QBUILD_DECLARE_OP(shape)
QBUILD_DECLARE_OP(softmax)
QBUILD_DECLARE_OP(split)
QBUILD_DECLARE_OP(squared_difference)
QBUILD_DECLARE_OP(strided_slice)
QBUILD_DECLARE_OP(sub)
QBUILD_DECLARE_OP(tanh)
QBUILD_DECLARE_OP(transpose)
QBUILD_DECLARE_OP(transpose_conv)
QBUILD_DECLARE_OP(unidirectional_sequence_lstm)
QBUILD_DECLARE_OP(unpack)

#undef QBUILD_DECLARE_OP

}  // namespace ops
}  // namespace qbuild

#endif  // QBUILD_SRC_OPS_OPS_H_
