// The 16x8 ops (int16 activations, int8 weights): entry points that pick the int16 glue (int16.cc) or the int8 one
// by the tensors' type. registry.cc registers these instead of the int8 entry points when QBUILD_INT16 is on
// (port.h), so a firmware whose model has no int16 tensor links none of the int16 code.
#ifndef QBUILD_SRC_OPS_INT16_H_
#define QBUILD_SRC_OPS_INT16_H_

#include "op.h"

namespace qbuild {
namespace ops {

#define QBUILD_DECLARE_ANY_OP(name)        \
  Status prepare_##name##_any(OpContext&); \
  Status eval_##name##_any(OpContext&);

QBUILD_DECLARE_ANY_OP(add)
QBUILD_DECLARE_ANY_OP(average_pool_2d)
QBUILD_DECLARE_ANY_OP(conv_2d)
QBUILD_DECLARE_ANY_OP(depthwise_conv_2d)
QBUILD_DECLARE_ANY_OP(dequantize)
QBUILD_DECLARE_ANY_OP(fully_connected)
QBUILD_DECLARE_ANY_OP(max_pool_2d)
QBUILD_DECLARE_ANY_OP(mean)
QBUILD_DECLARE_ANY_OP(mul)
QBUILD_DECLARE_ANY_OP(quantize)
QBUILD_DECLARE_ANY_OP(softmax)
QBUILD_DECLARE_ANY_OP(sub)

#undef QBUILD_DECLARE_ANY_OP

}  // namespace ops
}  // namespace qbuild

#endif  // QBUILD_SRC_OPS_INT16_H_
