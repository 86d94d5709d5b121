// Umbrella header for qbuild's int8 kernels (calling convention: README.md in this folder).
#ifndef QBUILD_KERNELS_KERNELS_H_
#define QBUILD_KERNELS_KERNELS_H_

#include "activations.h"
#include "common.h"
#include "conv.h"
#include "elementwise.h"
#include "fully_connected.h"
#include "lstm.h"
#include "norm.h"
#include "pooling.h"
#include "quantize.h"
#include "rectifier.h"
#include "resize.h"
#include "reduce.h"
#include "softmax.h"
#include "transpose_conv.h"

#endif  // QBUILD_KERNELS_KERNELS_H_
