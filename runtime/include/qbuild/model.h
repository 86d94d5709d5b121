// qbuild::Model: load a .tflite from memory (flash), plan its tensors into a caller-provided arena, run it.
#ifndef QBUILD_MODEL_H_
#define QBUILD_MODEL_H_

#include <stddef.h>
#include <stdint.h>

#include "qbuild/parameters.h"
#include "qbuild/status.h"
#include "qbuild/tensor.h"

namespace qbuild {

class Model {
 public:
  // Validates the model (every offset is bounds-checked against model_size), prepares each op and places the runtime
  // data and all activation tensors in `arena` (16-byte aligned, sized by `python -m qbuild plan`). The weights stay in
  // the model bytes, which must outlive the Model and be 16-byte aligned.
  Status load(const void* model_data, size_t model_size, void* arena, size_t arena_size);
  // Same, for an array whose length is not at hand: bounds are checked against QBUILD_MODEL_MAX_BYTES only.
  Status load(const void* model_data, void* arena, size_t arena_size);

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

 private:
  Status load_impl(const uint8_t* data, uint32_t size, uint8_t* arena, size_t arena_size);

  const uint8_t* model_ = nullptr;
  uint32_t model_size_ = 0;
  uint8_t* arena_ = nullptr;         // 16-byte aligned start inside the caller's arena
  size_t arena_used_ = 0;
  uint32_t subgraph_pos_ = 0;        // SubGraph table position
  uint32_t inputs_pos_ = 0, inputs_len_ = 0;
  uint32_t outputs_pos_ = 0, outputs_len_ = 0;
  uint32_t tensor_count_ = 0;
  uint32_t op_count_ = 0;
  void* tensors_ = nullptr;          // TensorView[tensor_count_] in the arena
  void* nodes_ = nullptr;            // OpNode[op_count_] in the arena
  int error_op_ = -1;
  bool loaded_ = false;
  Parameters params_;
};

}  // namespace qbuild

#endif  // QBUILD_MODEL_H_
