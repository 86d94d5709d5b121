// What an op's glue sees: its operator table, options, tensors, persistent data and scratch.
// Prepare validates everything Eval relies on (so Eval never reads or writes out of bounds) and precomputes;
// Eval only computes, calling the pure kernels in runtime/kernels/.
#ifndef QBUILD_SRC_OPS_OP_H_
#define QBUILD_SRC_OPS_OP_H_

#include <stdint.h>

#include "../flatbuffer.h"
#include "../schema.h"
#include "qbuild/status.h"
#include "qbuild/tensor.h"

namespace qbuild {

class OpContext {
 public:
  const FbReader* fb = nullptr;
  FbTable op;            // Operator table
  FbTable options;       // builtin_options (may be absent)
  FbVector inputs;       // int32 tensor indices (validated: -1 or < tensor_count)
  FbVector outputs;
  TensorView* tensors = nullptr;
  uint32_t tensor_count = 0;
  FbVector tensor_tables;  // SubGraph.tensors, for per-channel scales

  // Persistent op data (prepare: allocated with alloc(); eval: the first allocation).
  uint8_t* data = nullptr;
  // Prepare sets scratch_bytes to request a buffer live only during this op; Eval gets it in scratch.
  uint32_t scratch_bytes = 0;
  uint8_t* scratch = nullptr;

  int input_count() const { return static_cast<int>(inputs.length); }
  int output_count() const { return static_cast<int>(outputs.length); }
  // Null when absent (-1) or i out of range. Inputs 0..2 and output 0 come from io[] (one load instead of a call
  // per use: smaller glue); the Model fills it with resolve_io() before each prepare and eval.
  TensorView* input(int i) const { return i >= 0 && i < 3 ? io[i] : at(inputs, i); }
  TensorView* output(int i) const { return i == 0 ? io[3] : at(outputs, i); }
  void resolve_io();

  // Per-channel (or per-tensor) scales of input i straight from the model: null when absent or misaligned.
  const float* scales(int i, uint32_t* count, int32_t* quantized_dimension) const;

  // Prepare only: `bytes` of persistent arena, 8-byte aligned and zeroed; null when the arena is full.
  void* alloc(uint32_t bytes);
  // Eval: the persistent block that followed the op data (allocation order in Prepare): data + offset.
  template <typename T>
  T* data_at(uint32_t offset) const { return reinterpret_cast<T*>(data + offset); }

  // Persistent allocator state, owned by the Model.
  uint8_t* alloc_cur = nullptr;
  uint8_t* alloc_end = nullptr;
  bool alloc_failed = false;  // load() reports kArenaTooSmall instead of the glue's status
  TensorView* io[4] = {};     // input(0), input(1), input(2), output(0)

 private:
  TensorView* at(const FbVector& v, int i) const {
    if (i < 0 || static_cast<uint32_t>(i) >= v.length) return nullptr;
    int32_t idx = fb->element<int32_t>(v, static_cast<uint32_t>(i));
    return (idx < 0 || static_cast<uint32_t>(idx) >= tensor_count) ? nullptr : &tensors[idx];
  }
};

using OpFn = Status (*)(OpContext& ctx);

struct OpKernel {
  int32_t builtin;   // schema::BuiltinOp
  OpFn prepare;
  OpFn eval;
};

// Registry index of a builtin code, -1 when unknown or disabled in port.h.
int find_op_index(int32_t builtin);
const OpKernel& op_at(int index);

// Helpers shared by the glue.
constexpr uint32_t align8(uint32_t v) { return (v + 7u) & ~7u; }

// One scalar field of an op's builtin options table: its id, whether it is an int32 (else an int8, sign-extended)
// and its schema default.
struct OptionField {
  uint8_t id;
  uint8_t is_int32;
  int8_t def;
};
// Reads fields[0..n) into out[0..n) as int32 (one table walk per op instead of one call per field: smaller code);
// false when a read failed (malformed options table).
bool read_options(const OpContext& ctx, const OptionField* fields, int n, int32_t* out);
bool same_shape(const TensorView& a, const TensorView& b);
// Reads an int32/int64 constant-or-activation tensor element as int64 (false if the type is neither).
bool read_index(const TensorView& t, uint32_t i, int64_t* out);
// Maps a kernel status to the runtime's (bad quantization stays distinct).
Status from_kernel(int32_t kernel_status);
inline bool is_int8(const TensorView* t) { return t && t->type == TensorType::kInt8; }
inline bool is_int16(const TensorView* t) { return t && t->type == TensorType::kInt16; }

}  // namespace qbuild

#endif  // QBUILD_SRC_OPS_OP_H_
