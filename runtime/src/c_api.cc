// The C API (qbuild/qbuild_c.h): thin extern "C" wrappers over qbuild::Model, Parameters and the preprocessing.
// With -ffunction-sections and --gc-sections an application links only the wrappers it calls.
#include <stddef.h>

#include "qbuild/qbuild.h"

namespace {

using qbuild::Model;

// A Model constructed in the caller's qbuild_model storage. A class-scope placement operator new: toolchains without
// libstdc++ (Debian's arm-none-eabi) have no <new> to declare the global one.
struct Slot {
  Model model;
  static void* operator new(size_t, void* where) noexcept { return where; }
  static void operator delete(void*, void*) noexcept {}
};

static_assert(sizeof(Slot) <= sizeof(qbuild_model), "QBUILD_MODEL_BYTES (qbuild/qbuild_c.h) is too small for Model");
static_assert(alignof(Slot) <= alignof(qbuild_model), "qbuild_model is less aligned than Model");
static_assert(offsetof(Slot, model) == 0, "the Model starts the slot");

Model* model_of(qbuild_model* m) { return m ? reinterpret_cast<Model*>(m->opaque.bytes) : nullptr; }
const Model* model_of(const qbuild_model* m) { return m ? reinterpret_cast<const Model*>(m->opaque.bytes) : nullptr; }

constexpr bool same(qbuild_status c, qbuild::Status s) { return static_cast<int>(c) == static_cast<int>(s); }
static_assert(same(QBUILD_STATUS_OK, qbuild::Status::kOk) && same(QBUILD_STATUS_NULL_ARGUMENT, qbuild::Status::kNullArgument) &&
                  same(QBUILD_STATUS_NOT_LOADED, qbuild::Status::kNotLoaded) &&
                  same(QBUILD_STATUS_TRUNCATED, qbuild::Status::kTruncated) &&
                  same(QBUILD_STATUS_BAD_IDENTIFIER, qbuild::Status::kBadIdentifier) &&
                  same(QBUILD_STATUS_BAD_FLATBUFFER, qbuild::Status::kBadFlatbuffer) &&
                  same(QBUILD_STATUS_SCHEMA_VERSION, qbuild::Status::kSchemaVersion) &&
                  same(QBUILD_STATUS_SUBGRAPH_COUNT, qbuild::Status::kSubgraphCount) &&
                  same(QBUILD_STATUS_TENSOR_TYPE, qbuild::Status::kTensorType) &&
                  same(QBUILD_STATUS_TOO_MANY_DIMS, qbuild::Status::kTooManyDims) &&
                  same(QBUILD_STATUS_BAD_TENSOR_INDEX, qbuild::Status::kBadTensorIndex) &&
                  same(QBUILD_STATUS_BAD_BUFFER, qbuild::Status::kBadBuffer) &&
                  same(QBUILD_STATUS_BAD_QUANTIZATION, qbuild::Status::kBadQuantization) &&
                  same(QBUILD_STATUS_UNSUPPORTED_OP, qbuild::Status::kUnsupportedOp) &&
                  same(QBUILD_STATUS_BAD_OP_PARAMS, qbuild::Status::kBadOpParams) &&
                  same(QBUILD_STATUS_ARENA_TOO_SMALL, qbuild::Status::kArenaTooSmall) &&
                  same(QBUILD_STATUS_INDEX_OUT_OF_RANGE, qbuild::Status::kIndexOutOfRange) &&
                  same(QBUILD_STATUS_EVAL_FAILED, qbuild::Status::kEvalFailed),
              "qbuild_status (qbuild/qbuild_c.h) must list qbuild::Status (qbuild/status.h) value for value");

constexpr bool same(qbuild_type c, qbuild::TensorType t) { return static_cast<int>(c) == static_cast<int>(t); }
static_assert(same(QBUILD_TYPE_FLOAT32, qbuild::TensorType::kFloat32) && same(QBUILD_TYPE_INT32, qbuild::TensorType::kInt32) &&
                  same(QBUILD_TYPE_UINT8, qbuild::TensorType::kUInt8) && same(QBUILD_TYPE_INT64, qbuild::TensorType::kInt64) &&
                  same(QBUILD_TYPE_BOOL, qbuild::TensorType::kBool) && same(QBUILD_TYPE_INT16, qbuild::TensorType::kInt16) &&
                  same(QBUILD_TYPE_INT8, qbuild::TensorType::kInt8),
              "qbuild_type (qbuild/qbuild_c.h) must list qbuild::TensorType (qbuild/tensor.h) value for value");

qbuild_status to_c(qbuild::Status s) { return static_cast<qbuild_status>(static_cast<int>(s)); }

qbuild_status describe(const qbuild::TensorView* t, const Model* model, qbuild_tensor* out) {
  if (!model || !out) return QBUILD_STATUS_NULL_ARGUMENT;
  if (!t) return model->inputs_size() + model->outputs_size() == 0 ? QBUILD_STATUS_NOT_LOADED
                                                                   : QBUILD_STATUS_INDEX_OUT_OF_RANGE;
  out->data = t->data.raw;
  out->bytes = t->bytes;
  out->elements = t->elements();
  out->type = static_cast<qbuild_type>(static_cast<int>(t->type));
  out->rank = t->rank;
  for (int d = 0; d < QBUILD_MAX_DIMS; ++d) out->dims[d] = d < t->rank ? t->dims[d] : 0;
  out->scale = t->params.scale;
  out->zero_point = t->params.zero_point;
  return QBUILD_STATUS_OK;
}

template <typename T>
bool param(const qbuild_model* m, const char* key, T* out) {
  const Model* model = model_of(m);
  return model && key && out && model->parameters().get(key, *out);
}

}  // namespace

extern "C" {

const char* qbuild_status_str(qbuild_status s) { return qbuild::status_str(static_cast<qbuild::Status>(s)); }

qbuild_status qbuild_load(qbuild_model* m, const void* model_data, size_t model_size, void* arena, size_t arena_size) {
  if (!m) return QBUILD_STATUS_NULL_ARGUMENT;
  Model* model = &(new (m->opaque.bytes) Slot())->model;
  return to_c(model->load(model_data, model_size, arena, arena_size));
}

qbuild_status qbuild_load_prepared(qbuild_model* m, const void* model_data, size_t model_size,
                                   const qbuild_prepared* tables) {
  if (!m || !tables) return QBUILD_STATUS_NULL_ARGUMENT;
  Model* model = &(new (m->opaque.bytes) Slot())->model;
  // The tables file defines the object as a qbuild::PreparedModel with C linkage; C sees it as this opaque type.
  return to_c(model->load(model_data, model_size, *reinterpret_cast<const qbuild::PreparedModel*>(tables)));
}

qbuild_status qbuild_invoke(qbuild_model* m) {
  Model* model = model_of(m);
  return model ? to_c(model->invoke()) : QBUILD_STATUS_NULL_ARGUMENT;
}

size_t qbuild_arena_used_bytes(const qbuild_model* m) { return m ? model_of(m)->arena_used_bytes() : 0; }
int qbuild_error_op(const qbuild_model* m) { return m ? model_of(m)->error_op() : -1; }
size_t qbuild_inputs_size(const qbuild_model* m) { return m ? model_of(m)->inputs_size() : 0; }
size_t qbuild_outputs_size(const qbuild_model* m) { return m ? model_of(m)->outputs_size() : 0; }

qbuild_status qbuild_input(const qbuild_model* m, size_t i, qbuild_tensor* out) {
  // Model::input() is non-const (it hands out a writable tensor); reading its description does not modify the model.
  Model* model = const_cast<Model*>(model_of(m));
  return describe(model ? model->input(i) : nullptr, model, out);
}

qbuild_status qbuild_output(const qbuild_model* m, size_t i, qbuild_tensor* out) {
  const Model* model = model_of(m);
  return describe(model ? model->output(i) : nullptr, model, out);
}

void* qbuild_input_data(qbuild_model* m, size_t i) {
  qbuild::TensorView* t = m ? model_of(m)->input(i) : nullptr;
  return t ? t->data.raw : nullptr;
}

const void* qbuild_output_data(const qbuild_model* m, size_t i) {
  const qbuild::TensorView* t = m ? model_of(m)->output(i) : nullptr;
  return t ? t->data.raw : nullptr;
}

bool qbuild_param_float(const qbuild_model* m, const char* key, float* out) { return param(m, key, out); }
bool qbuild_param_int32(const qbuild_model* m, const char* key, int32_t* out) { return param(m, key, out); }
bool qbuild_param_bool(const qbuild_model* m, const char* key, bool* out) { return param(m, key, out); }
bool qbuild_param_str(const qbuild_model* m, const char* key, const char** out) { return param(m, key, out); }
bool qbuild_param_contains(const qbuild_model* m, const char* key) {
  return m && key && model_of(m)->parameters().contains(key);
}
size_t qbuild_params_size(const qbuild_model* m) { return m ? model_of(m)->parameters().size() : 0; }

void qbuild_samplewise_mean_std_u8(const uint8_t* src, float* dst, size_t n) { qbuild::samplewise_mean_std(src, dst, n); }
void qbuild_samplewise_mean_std_i8(const int8_t* src, float* dst, size_t n) { qbuild::samplewise_mean_std(src, dst, n); }
void qbuild_samplewise_mean_std_u16(const uint16_t* src, float* dst, size_t n) { qbuild::samplewise_mean_std(src, dst, n); }
void qbuild_samplewise_mean_std_i16(const int16_t* src, float* dst, size_t n) { qbuild::samplewise_mean_std(src, dst, n); }
void qbuild_samplewise_mean_std_f32(const float* src, float* dst, size_t n) { qbuild::samplewise_mean_std(src, dst, n); }
void qbuild_scale_to_float_u8(const uint8_t* src, float* dst, size_t n, float scale) {
  qbuild::scale_to_float(src, dst, n, scale);
}
void qbuild_scale_to_float_i8(const int8_t* src, float* dst, size_t n, float scale) {
  qbuild::scale_to_float(src, dst, n, scale);
}
void qbuild_scale_to_float_u16(const uint16_t* src, float* dst, size_t n, float scale) {
  qbuild::scale_to_float(src, dst, n, scale);
}
void qbuild_scale_to_float_i16(const int16_t* src, float* dst, size_t n, float scale) {
  qbuild::scale_to_float(src, dst, n, scale);
}
void qbuild_scale_to_float_f32(const float* src, float* dst, size_t n, float scale) {
  qbuild::scale_to_float(src, dst, n, scale);
}

}  // extern "C"
