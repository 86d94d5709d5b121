// qbuild runtime: every tuning knob, with what it costs. Override any of them with -D on the compiler line.
#ifndef QBUILD_PORT_H_
#define QBUILD_PORT_H_

// Highest tensor rank the runtime accepts. Each extra dimension costs 4 bytes of arena per tensor (TensorView.dims).
// 6 covers STRIDED_SLICE/PACK around a dynamic batch; image and audio models need 4.
#ifndef QBUILD_MAX_DIMS
#define QBUILD_MAX_DIMS 6
#endif

// Alignment of every activation buffer and of the planned region in the arena. 16 matches TFLM and lets SIMD kernels
// use aligned loads; each buffer may waste up to (alignment - 1) bytes. qbuild/plan.py mirrors this value.
#ifndef QBUILD_ARENA_ALIGN
#define QBUILD_ARENA_ALIGN 16
#endif

// Model size assumed by the 3-argument Model::load(), which cannot know the array length. The bounds checks then only
// guard against offsets beyond this value; pass the real length (sl_tflite_model_len) to the 4-argument overload for
// full checks. No byte cost.
#ifndef QBUILD_MODEL_MAX_BYTES
#define QBUILD_MODEL_MAX_BYTES (64u * 1024u * 1024u)
#endif

// Op switches: set one to 0 to drop that op's glue and kernel from the image (with -ffunction-sections and
// --gc-sections). Loading a model that uses a disabled op returns Status::kUnsupportedOp. Measured Cortex-M33 -Os
// flash per op is in bench/RESULTS.md ("Runtime").
#ifndef QBUILD_OP_ADD
#define QBUILD_OP_ADD 1
#endif
#ifndef QBUILD_OP_AVERAGE_POOL_2D
#define QBUILD_OP_AVERAGE_POOL_2D 1
#endif
#ifndef QBUILD_OP_CONCATENATION
#define QBUILD_OP_CONCATENATION 1
#endif
#ifndef QBUILD_OP_CONV_2D
#define QBUILD_OP_CONV_2D 1
#endif
#ifndef QBUILD_OP_DEPTHWISE_CONV_2D
#define QBUILD_OP_DEPTHWISE_CONV_2D 1
#endif
#ifndef QBUILD_OP_DEQUANTIZE
#define QBUILD_OP_DEQUANTIZE 1
#endif
#ifndef QBUILD_OP_FULLY_CONNECTED
#define QBUILD_OP_FULLY_CONNECTED 1
#endif
#ifndef QBUILD_OP_HARD_SWISH
#define QBUILD_OP_HARD_SWISH 1
#endif
#ifndef QBUILD_OP_LEAKY_RELU
#define QBUILD_OP_LEAKY_RELU 1
#endif
#ifndef QBUILD_OP_LOGISTIC
#define QBUILD_OP_LOGISTIC 1
#endif
#ifndef QBUILD_OP_MAXIMUM
#define QBUILD_OP_MAXIMUM 1
#endif
#ifndef QBUILD_OP_MAX_POOL_2D
#define QBUILD_OP_MAX_POOL_2D 1
#endif
#ifndef QBUILD_OP_MEAN
#define QBUILD_OP_MEAN 1
#endif
#ifndef QBUILD_OP_MINIMUM
#define QBUILD_OP_MINIMUM 1
#endif
#ifndef QBUILD_OP_MUL
#define QBUILD_OP_MUL 1
#endif
#ifndef QBUILD_OP_NEG
#define QBUILD_OP_NEG 1
#endif
#ifndef QBUILD_OP_PACK
#define QBUILD_OP_PACK 1
#endif
#ifndef QBUILD_OP_PAD
#define QBUILD_OP_PAD 1
#endif
#ifndef QBUILD_OP_PRELU
#define QBUILD_OP_PRELU 1
#endif
#ifndef QBUILD_OP_QUANTIZE
#define QBUILD_OP_QUANTIZE 1
#endif
#ifndef QBUILD_OP_REDUCE_MAX
#define QBUILD_OP_REDUCE_MAX 1
#endif
#ifndef QBUILD_OP_RELU
#define QBUILD_OP_RELU 1
#endif
#ifndef QBUILD_OP_RELU6
#define QBUILD_OP_RELU6 1
#endif
#ifndef QBUILD_OP_RESHAPE
#define QBUILD_OP_RESHAPE 1
#endif
#ifndef QBUILD_OP_RESIZE_BILINEAR
#define QBUILD_OP_RESIZE_BILINEAR 1
#endif
#ifndef QBUILD_OP_RSQRT
#define QBUILD_OP_RSQRT 1
#endif
#ifndef QBUILD_OP_SHAPE
#define QBUILD_OP_SHAPE 1
#endif
#ifndef QBUILD_OP_SOFTMAX
#define QBUILD_OP_SOFTMAX 1
#endif
#ifndef QBUILD_OP_SPLIT
#define QBUILD_OP_SPLIT 1
#endif
#ifndef QBUILD_OP_SQUARED_DIFFERENCE
#define QBUILD_OP_SQUARED_DIFFERENCE 1
#endif
#ifndef QBUILD_OP_STRIDED_SLICE
#define QBUILD_OP_STRIDED_SLICE 1
#endif
#ifndef QBUILD_OP_SUB
#define QBUILD_OP_SUB 1
#endif
#ifndef QBUILD_OP_TRANSPOSE
#define QBUILD_OP_TRANSPOSE 1
#endif
#ifndef QBUILD_OP_TRANSPOSE_CONV
#define QBUILD_OP_TRANSPOSE_CONV 1
#endif
#ifndef QBUILD_OP_UNIDIRECTIONAL_SEQUENCE_LSTM
#define QBUILD_OP_UNIDIRECTIONAL_SEQUENCE_LSTM 1
#endif
#ifndef QBUILD_OP_UNPACK
#define QBUILD_OP_UNPACK 1
#endif
#ifndef QBUILD_OP_TANH
#define QBUILD_OP_TANH 1
#endif

// 16x8 models (int16 activations, int8 weights): 1 registers CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, the pools,
// MEAN, SOFTMAX, QUANTIZE and DEQUANTIZE through entry points that also take int16 tensors (runtime/src/ops/int16.cc,
// runtime/kernels/int16.cc, with SOFTMAX's two 1026-byte tables in flash). 0: int8 only; qbuild_ops.h sets it from the
// model, so an int8 firmware links none of it.
#ifndef QBUILD_INT16
#define QBUILD_INT16 1
#endif

// Model parameters (SL_PARAMSv1 metadata, Model::parameters()). 0: load() skips the metadata and parameters() is
// always empty; saves 408 bytes of Cortex-M33 -Os flash in the KWS image (more when the application calls
// Parameters::get()).
#ifndef QBUILD_PARAMETERS
#define QBUILD_PARAMETERS 1
#endif

// status_str() sentences. 1: one human sentence per Status (~865 bytes of Cortex-M33 flash when the application
// calls status_str(), as the generated main.cc does; 0 bytes otherwise). 0: codes only, "E00".."E17" (the Status
// enumerator's position in qbuild/status.h, e.g. "E15" = kArenaTooSmall), ~100 bytes.
#ifndef QBUILD_STATUS_STRINGS
#define QBUILD_STATUS_STRINGS 1
#endif

// Kernel knobs live in runtime/kernels/common.h (the kernels build without this header): QBUILD_KERNELS_UNROLL
// (+~700 B, faster CONV_2D / FULLY_CONNECTED; off at -Os) and QBUILD_KERNELS_SHARED_REQUANTIZE (-386 B at -Os for
// the KWS op set; on at -Os).

// Debug-only asserts for invariants Prepare already guarantees (checks on model bytes always run).
#ifndef QBUILD_DEBUG_ASSERT
#define QBUILD_DEBUG_ASSERT(cond) ((void)0)
#endif

#endif  // QBUILD_PORT_H_
