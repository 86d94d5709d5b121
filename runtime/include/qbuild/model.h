// qbuild::Model: load a .tflite from memory (flash), plan its tensors into a caller-provided arena, run it.
#ifndef QBUILD_MODEL_H_
#define QBUILD_MODEL_H_

#include <stddef.h>
#include <stdint.h>

#include "qbuild/parameters.h"
#include "qbuild/status.h"
#include "qbuild/tensor.h"

namespace qbuild {

class OpContext;

// One op of a loaded model, what invoke() runs: the run-time path builds these in the arena, the build-time path has
// them in flash (PreparedModel::ops).
constexpr uint32_t kNoScratch = 0xFFFFFFFFu;
struct OpNode {
  Status (*eval)(OpContext&);
  uint32_t op_pos;       // Operator table position in the model
  uint32_t data_off;     // persistent op data, from the op data base (the arena start, or PreparedModel::op_data)
  uint32_t scratch_off;  // scratch buffer, from the arena start; kNoScratch: none
};

// The build-time path: what load() would compute, as const tables next to the model (written by
// `python -m qbuild prepare`, which runs this runtime's own prepare on the host). Views point into the model and into
// `arena`, a static array of `arena_bytes` (the activations, placed at build time).
constexpr uint32_t kPreparedVersion = 1;
struct PreparedModel {
  uint32_t version;      // kPreparedVersion
  uint32_t model_size;   // the tables belong to exactly these model bytes:
  uint32_t model_hash;   // FNV-1a 32 of them
  uint32_t tensor_count, op_count;
  uint32_t subgraph_pos, inputs_pos, inputs_len, outputs_pos, outputs_len;
  uint32_t arena_bytes;
  const TensorView* tensors;
  const OpNode* ops;
  const uint8_t* op_data;
  uint8_t* arena;
};

class Model {
 public:
  // Validates the model (every offset is bounds-checked against model_size), prepares each op and places the runtime
  // data and all activation tensors in `arena` (16-byte aligned, sized by `python -m qbuild plan`). The weights stay in
  // the model bytes, which must outlive the Model and be 16-byte aligned.
  Status load(const void* model_data, size_t model_size, void* arena, size_t arena_size);
  // Same, for an array whose length is not at hand: bounds are checked against QBUILD_MODEL_MAX_BYTES only.
  Status load(const void* model_data, void* arena, size_t arena_size);

  // The build-time path: takes the prepared tables instead of computing them in RAM (no arena argument: the views
  // point into the tables' own arena). Checks only that the tables belong to these model bytes (size and hash): the
  // build validated the model. Inputs, outputs and results are the same as the run-time path's.
  Status load(const void* model_data, size_t model_size, const PreparedModel& prepared);

  Status invoke();

  size_t inputs_size() const;
  size_t outputs_size() const;
  TensorView* input(size_t i);           // null when i is out of range or the model is not loaded
  const TensorView* output(size_t i) const;
  TensorView* tensor(size_t i);          // any tensor by its index in the model
  size_t tensors_size() const { return tensor_count_; }
  size_t ops_size() const { return op_count_; }

  const Parameters& parameters() const { return params_; }

  // Bytes of the arena in use: runtime data + planned tensors (what `python -m qbuild plan` predicts).
  size_t arena_used_bytes() const { return arena_used_; }
  // Index of the op that failed load() or invoke(), -1 when the failure was not inside an op.
  int error_op() const { return error_op_; }

  // What the run-time load() computed, for the build-time prepare (runtime/tools/qbuild_prepare.cc).
  struct Layout {
    const uint8_t* arena;                   // 16-byte aligned arena start
    const OpNode* nodes;
    uint32_t op_data_begin;                 // the op data, from the arena start up to the activations
    uint32_t subgraph_pos, inputs_pos, inputs_len, outputs_pos, outputs_len;
  };
  Layout layout() const;

 private:
  Status load_impl(const uint8_t* data, uint32_t size, uint8_t* arena, size_t arena_size);
  Status attach_parameters(const uint8_t* data, uint32_t size);

  const uint8_t* model_ = nullptr;
  uint32_t model_size_ = 0;
  uint8_t* arena_ = nullptr;         // 16-byte aligned start inside the caller's arena (the activations, prepared)
  const uint8_t* op_data_ = nullptr; // OpNode::data_off base: arena_, or PreparedModel::op_data
  size_t arena_used_ = 0;
  uint32_t subgraph_pos_ = 0;        // SubGraph table position
  uint32_t inputs_pos_ = 0, inputs_len_ = 0;
  uint32_t outputs_pos_ = 0, outputs_len_ = 0;
  uint32_t tensor_count_ = 0;
  uint32_t op_count_ = 0;
  void* tensors_ = nullptr;          // TensorView[tensor_count_] in the arena (flash when prepared: never written)
  const OpNode* nodes_ = nullptr;    // OpNode[op_count_] in the arena or in flash
  int error_op_ = -1;
  bool loaded_ = false;
  Parameters params_;
};

}  // namespace qbuild

#endif  // QBUILD_MODEL_H_
