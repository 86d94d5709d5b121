// Model::load(PreparedModel): the build-time path. Everything load() computes was computed at build time by this
// runtime's own prepare (`python -m qbuild prepare`) and is const in flash; this only checks that the tables belong to
// the model bytes and points the Model at them. Links neither the loader, the planner nor any op's prepare.
#include "qbuild/model.h"

#include <string.h>

namespace qbuild {
namespace {

uint32_t fnv1a(const uint8_t* p, uint32_t n) {
  uint32_t h = 0x811C9DC5u;
  for (uint32_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

}  // namespace

Status Model::load(const void* model_data, size_t model_size, const PreparedModel& prepared) {
  loaded_ = false;
  error_op_ = -1;
  arena_used_ = 0;
  params_.clear();
  if (!model_data || model_size == 0) return Status::kNullArgument;
  const uint8_t* data = static_cast<const uint8_t*>(model_data);
  if (prepared.version != kPreparedVersion || prepared.model_size != model_size ||
      prepared.model_hash != fnv1a(data, prepared.model_size)) {
    return Status::kBadFlatbuffer;  // tables of another model (or another qbuild)
  }
#if QBUILD_PARAMETERS
  Status s = attach_parameters(data, prepared.model_size);
  if (s != Status::kOk) return s;
#endif
  model_ = data;
  model_size_ = prepared.model_size;
  subgraph_pos_ = prepared.subgraph_pos;
  inputs_pos_ = prepared.inputs_pos;
  inputs_len_ = prepared.inputs_len;
  outputs_pos_ = prepared.outputs_pos;
  outputs_len_ = prepared.outputs_len;
  tensor_count_ = prepared.tensor_count;
  op_count_ = prepared.op_count;
  arena_ = prepared.arena;
  op_data_ = prepared.op_data;
  tensors_ = const_cast<TensorView*>(prepared.tensors);  // never written: input(i) gives the data pointer to fill
  nodes_ = prepared.ops;
  // Op state (variable tensors, in the tables' own RAM array): reset as the run-time path does, int8 to the zero
  // point, anything else to zero.
  for (uint32_t i = 0; i < prepared.tensor_count; ++i) {
    const TensorView& t = prepared.tensors[i];
    if (t.is_variable) memset(t.data.raw, t.type == TensorType::kInt8 ? t.params.zero_point : 0, t.bytes);
  }
  arena_used_ = prepared.arena_bytes;
  loaded_ = true;
  return Status::kOk;
}

}  // namespace qbuild
