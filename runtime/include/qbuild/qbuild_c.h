/* The qbuild runtime from C (C99 and later; C11 for the _Generic preprocessing macros): the same Model, tensors,
 * parameters and preprocessing as the C++ API, behind extern "C" functions. No heap: the model object lives in caller
 * storage (qbuild_model), activations in the caller's arena. Implemented in runtime/src/c_api.cc. */
#ifndef QBUILD_QBUILD_C_H_
#define QBUILD_QBUILD_C_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qbuild/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* qbuild::Status, value for value (c_api.cc checks every one). */
typedef enum qbuild_status {
  QBUILD_STATUS_OK = 0,
  QBUILD_STATUS_NULL_ARGUMENT,
  QBUILD_STATUS_NOT_LOADED,
  QBUILD_STATUS_TRUNCATED,
  QBUILD_STATUS_BAD_IDENTIFIER,
  QBUILD_STATUS_BAD_FLATBUFFER,
  QBUILD_STATUS_SCHEMA_VERSION,
  QBUILD_STATUS_SUBGRAPH_COUNT,
  QBUILD_STATUS_TENSOR_TYPE,
  QBUILD_STATUS_TOO_MANY_DIMS,
  QBUILD_STATUS_BAD_TENSOR_INDEX,
  QBUILD_STATUS_BAD_BUFFER,
  QBUILD_STATUS_BAD_QUANTIZATION,
  QBUILD_STATUS_UNSUPPORTED_OP,
  QBUILD_STATUS_BAD_OP_PARAMS,
  QBUILD_STATUS_ARENA_TOO_SMALL,
  QBUILD_STATUS_INDEX_OUT_OF_RANGE,
  QBUILD_STATUS_EVAL_FAILED
} qbuild_status;

/* qbuild::TensorType: the TFLite schema's TensorType ids. */
typedef enum qbuild_type {
  QBUILD_TYPE_FLOAT32 = 0,
  QBUILD_TYPE_INT32 = 2,
  QBUILD_TYPE_UINT8 = 3,
  QBUILD_TYPE_INT64 = 4,
  QBUILD_TYPE_BOOL = 6,
  QBUILD_TYPE_INT16 = 7,
  QBUILD_TYPE_INT8 = 9
} qbuild_type;

/* Bytes of caller storage for a qbuild::Model (76 with 4-byte pointers, 112 with 8; c_api.cc static_asserts that it
 * fits): 80 on Cortex-M, 112 on a 64-bit host. */
#define QBUILD_MODEL_BYTES (8u * sizeof(void*) + 48u)

/* The model object, opaque: declare one per model (static or on the stack), pass its address to every call. Its
 * first use must be qbuild_load(); every other call on a qbuild_model that was never loaded reads garbage, except on a
 * zero-initialised one (a static), which reports "not loaded". */
typedef struct qbuild_model {
  union {
    void* align_pointer;
    uint64_t align_u64;
    unsigned char bytes[QBUILD_MODEL_BYTES];
  } opaque;
} qbuild_model;

/* A tensor as the application sees it (a copy: filled by qbuild_input()/qbuild_output()). */
typedef struct qbuild_tensor {
  void* data;                     /* in the arena; write inputs here before qbuild_invoke() */
  size_t bytes;                   /* elements * bytes per element */
  size_t elements;
  qbuild_type type;
  int32_t rank;
  int32_t dims[QBUILD_MAX_DIMS];  /* dims[0..rank) */
  float scale;                    /* real = scale * (q - zero_point); 0 when the tensor is not quantized */
  int32_t zero_point;
} qbuild_tensor;

/* Short description of a status, e.g. "arena too small" (codes "E00".."E17" with QBUILD_STATUS_STRINGS=0). */
const char* qbuild_status_str(qbuild_status s);

/* qbuild::Model::load(): checks every offset against model_size, prepares each op, plans the activations into the
 * arena (16-byte aligned; size: `python -m qbuild plan model.tflite`). The model bytes (e.g. sl_tflite_model_array,
 * 16-byte aligned) must outlive the model. */
qbuild_status qbuild_load(qbuild_model* m, const void* model_data, size_t model_size, void* arena, size_t arena_size);
/* The build-time tables of one model (qbuild::PreparedModel), opaque: `python -m qbuild prepare model.tflite
 * out.cc --symbol kws` writes them (out.cc, compiled as C++) and out.h, which declares `kws_model_prepared`. */
typedef struct qbuild_prepared qbuild_prepared;
/* qbuild::Model::load(bytes, size, prepared), the build-time path: no arena argument (the tables name their activation
 * array), nothing computed at load; QBUILD_STATUS_BAD_FLATBUFFER when the tables belong to other model bytes. */
qbuild_status qbuild_load_prepared(qbuild_model* m, const void* model_data, size_t model_size,
                                   const qbuild_prepared* tables);
/* Runs the model on the current input data; output data is valid until the next qbuild_invoke(). */
qbuild_status qbuild_invoke(qbuild_model* m);
/* Arena bytes the loaded model uses (runtime data + planned tensors): what `python -m qbuild plan` predicts. */
size_t qbuild_arena_used_bytes(const qbuild_model* m);
/* Index of the op that failed qbuild_load()/qbuild_invoke(), -1 when the failure was not inside an op. */
int qbuild_error_op(const qbuild_model* m);

size_t qbuild_inputs_size(const qbuild_model* m);   /* 0 when not loaded */
size_t qbuild_outputs_size(const qbuild_model* m);
/* Fill *out with input/output i: QBUILD_STATUS_NOT_LOADED, QBUILD_STATUS_INDEX_OUT_OF_RANGE or OK. */
qbuild_status qbuild_input(const qbuild_model* m, size_t i, qbuild_tensor* out);
qbuild_status qbuild_output(const qbuild_model* m, size_t i, qbuild_tensor* out);
/* The data pointers alone; NULL when i is out of range or the model is not loaded. */
void* qbuild_input_data(qbuild_model* m, size_t i);
const void* qbuild_output_data(const qbuild_model* m, size_t i);

/* Model parameters (SL_PARAMSv1), as Parameters::get(): false (and *out unchanged) when the key is absent or its value
 * cannot be represented. Numeric keys accept any numeric member; bool also accepts numbers (nonzero = true); strings
 * point into the model bytes. */
bool qbuild_param_float(const qbuild_model* m, const char* key, float* out);
bool qbuild_param_int32(const qbuild_model* m, const char* key, int32_t* out);
bool qbuild_param_bool(const qbuild_model* m, const char* key, bool* out);
bool qbuild_param_str(const qbuild_model* m, const char* key, const char** out);
bool qbuild_param_contains(const qbuild_model* m, const char* key);
size_t qbuild_params_size(const qbuild_model* m);

/* Preprocessing, bit for bit qbuild/model/preprocess.py (see qbuild/preprocess.h):
 * samplewise_mean_std: dst[i] = (x[i] - mean) / (std + 1e-6f); scale_to_float: dst[i] = (float)x[i] * scale. */
void qbuild_samplewise_mean_std_u8(const uint8_t* src, float* dst, size_t n);
void qbuild_samplewise_mean_std_i8(const int8_t* src, float* dst, size_t n);
void qbuild_samplewise_mean_std_u16(const uint16_t* src, float* dst, size_t n);
void qbuild_samplewise_mean_std_i16(const int16_t* src, float* dst, size_t n);
void qbuild_samplewise_mean_std_f32(const float* src, float* dst, size_t n);
void qbuild_scale_to_float_u8(const uint8_t* src, float* dst, size_t n, float scale);
void qbuild_scale_to_float_i8(const int8_t* src, float* dst, size_t n, float scale);
void qbuild_scale_to_float_u16(const uint16_t* src, float* dst, size_t n, float scale);
void qbuild_scale_to_float_i16(const int16_t* src, float* dst, size_t n, float scale);
void qbuild_scale_to_float_f32(const float* src, float* dst, size_t n, float scale);

#ifdef __cplusplus
}
#endif

/* C11: one name for every source type, like the C++ overloads. */
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define qbuild_samplewise_mean_std(src, dst, n)                                                              \
  _Generic((src), const uint8_t*: qbuild_samplewise_mean_std_u8, uint8_t*: qbuild_samplewise_mean_std_u8,   \
           const int8_t*: qbuild_samplewise_mean_std_i8, int8_t*: qbuild_samplewise_mean_std_i8,            \
           const uint16_t*: qbuild_samplewise_mean_std_u16, uint16_t*: qbuild_samplewise_mean_std_u16,      \
           const int16_t*: qbuild_samplewise_mean_std_i16, int16_t*: qbuild_samplewise_mean_std_i16,        \
           const float*: qbuild_samplewise_mean_std_f32, float*: qbuild_samplewise_mean_std_f32)(src, dst, n)
#define qbuild_scale_to_float(src, dst, n, scale)                                                            \
  _Generic((src), const uint8_t*: qbuild_scale_to_float_u8, uint8_t*: qbuild_scale_to_float_u8,             \
           const int8_t*: qbuild_scale_to_float_i8, int8_t*: qbuild_scale_to_float_i8,                      \
           const uint16_t*: qbuild_scale_to_float_u16, uint16_t*: qbuild_scale_to_float_u16,                \
           const int16_t*: qbuild_scale_to_float_i16, int16_t*: qbuild_scale_to_float_i16,                  \
           const float*: qbuild_scale_to_float_f32, float*: qbuild_scale_to_float_f32)(src, dst, n, scale)
#endif

#endif /* QBUILD_QBUILD_C_H_ */
