// The op table. An op disabled in port.h is absent here, so its glue and kernel are dropped at link time.
#include "int16.h"
#include "ops.h"
#include "qbuild/port.h"

namespace qbuild {
namespace {

#define QBUILD_OP(code, name) {schema::code, ops::prepare_##name, ops::eval_##name},
// Ops with int16 (16x8) kernels: with QBUILD_INT16, entry points that pick the int16 or the int8 glue (ops/int16.h).
#if QBUILD_INT16
#define QBUILD_OP_ANY(code, name) {schema::code, ops::prepare_##name##_any, ops::eval_##name##_any},
#else
#define QBUILD_OP_ANY(code, name) QBUILD_OP(code, name)
#endif

constexpr OpKernel kOps[] = {
#if QBUILD_OP_ADD
    QBUILD_OP_ANY(kAdd, add)
#endif
#if QBUILD_OP_AVERAGE_POOL_2D
    QBUILD_OP_ANY(kAveragePool2D, average_pool_2d)
#endif
#if QBUILD_OP_CONCATENATION
    QBUILD_OP(kConcatenation, concatenation)
#endif
#if QBUILD_OP_CONV_2D
    QBUILD_OP_ANY(kConv2D, conv_2d)
#endif
#if QBUILD_OP_DEPTHWISE_CONV_2D
    QBUILD_OP_ANY(kDepthwiseConv2D, depthwise_conv_2d)
#endif
#if QBUILD_OP_DEQUANTIZE
    QBUILD_OP_ANY(kDequantize, dequantize)
#endif
#if QBUILD_OP_FULLY_CONNECTED
    QBUILD_OP_ANY(kFullyConnected, fully_connected)
#endif
#if QBUILD_OP_HARD_SWISH
    QBUILD_OP(kHardSwish, hard_swish)
#endif
#if QBUILD_OP_LEAKY_RELU
    QBUILD_OP(kLeakyRelu, leaky_relu)
#endif
#if QBUILD_OP_LOGISTIC
    QBUILD_OP(kLogistic, logistic)
#endif
#if QBUILD_OP_MAXIMUM
    QBUILD_OP(kMaximum, maximum)
#endif
#if QBUILD_OP_MAX_POOL_2D
    QBUILD_OP_ANY(kMaxPool2D, max_pool_2d)
#endif
#if QBUILD_OP_MEAN
    QBUILD_OP_ANY(kMean, mean)
#endif
#if QBUILD_OP_MINIMUM
    QBUILD_OP(kMinimum, minimum)
#endif
#if QBUILD_OP_MUL
    QBUILD_OP_ANY(kMul, mul)
#endif
#if QBUILD_OP_NEG
    QBUILD_OP(kNeg, neg)
#endif
#if QBUILD_OP_PACK
    QBUILD_OP(kPack, pack)
#endif
#if QBUILD_OP_PAD
    QBUILD_OP(kPad, pad)
#endif
#if QBUILD_OP_PRELU
    QBUILD_OP(kPrelu, prelu)
#endif
#if QBUILD_OP_QUANTIZE
    QBUILD_OP_ANY(kQuantize, quantize)
#endif
#if QBUILD_OP_REDUCE_MAX
    QBUILD_OP(kReduceMax, reduce_max)
#endif
#if QBUILD_OP_RELU
    QBUILD_OP(kRelu, relu)
#endif
#if QBUILD_OP_RELU6
    QBUILD_OP(kRelu6, relu6)
#endif
#if QBUILD_OP_RESHAPE
    QBUILD_OP(kReshape, reshape)
#endif
#if QBUILD_OP_RESIZE_BILINEAR
    QBUILD_OP(kResizeBilinear, resize_bilinear)
#endif
#if QBUILD_OP_RSQRT
    QBUILD_OP(kRsqrt, rsqrt)
#endif
#if QBUILD_OP_SHAPE
    QBUILD_OP(kShape, shape)
#endif
#if QBUILD_OP_SOFTMAX
    QBUILD_OP_ANY(kSoftmax, softmax)
#endif
#if QBUILD_OP_SPLIT
    QBUILD_OP(kSplit, split)
#endif
#if QBUILD_OP_SQUARED_DIFFERENCE
    QBUILD_OP(kSquaredDifference, squared_difference)
#endif
#if QBUILD_OP_STRIDED_SLICE
    QBUILD_OP(kStridedSlice, strided_slice)
#endif
#if QBUILD_OP_SUB
    QBUILD_OP_ANY(kSub, sub)
#endif
#if QBUILD_OP_TANH
    QBUILD_OP(kTanh, tanh)
#endif
#if QBUILD_OP_TRANSPOSE
    QBUILD_OP(kTranspose, transpose)
#endif
#if QBUILD_OP_TRANSPOSE_CONV
    QBUILD_OP(kTransposeConv, transpose_conv)
#endif
#if QBUILD_OP_UNIDIRECTIONAL_SEQUENCE_LSTM
    QBUILD_OP(kUnidirectionalSequenceLstm, unidirectional_sequence_lstm)
#endif
#if QBUILD_OP_UNPACK
    QBUILD_OP(kUnpack, unpack)
#endif
    {-1, nullptr, nullptr},
};

#undef QBUILD_OP_ANY
#undef QBUILD_OP

}  // namespace

int find_op_index(int32_t builtin) {
  for (int i = 0; kOps[i].prepare != nullptr; ++i) {
    if (kOps[i].builtin == builtin) return i;
  }
  return -1;
}

const OpKernel& op_at(int index) { return kOps[index]; }

}  // namespace qbuild
