// qbuild-prepare: the build-time prepare. Loads a .tflite through the run-time path on the host and prints, as one
// JSON object, what load() computed, without pointers: every tensor view (its data as an offset into the model or
// "activation"), every op node (op data as an offset into the op data), the op data bytes and the SubGraph positions.
// qbuild/codegen/prepared.py turns it into the const tables of the build-time path (Model::load(PreparedModel)).
//   qbuild-prepare model.tflite
// The op data holds fixed-width integers only (the kernels' params structs and per-channel arrays), so the bytes are
// the same on a 64-bit host and a 32-bit Cortex-M; tests/test_prepared.py runs the tables on both.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbuild/qbuild.h"

namespace {

unsigned char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return nullptr;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  auto* data = static_cast<unsigned char*>(aligned_alloc(16, (static_cast<size_t>(n) + 15) / 16 * 16 + 16));
  *size = fread(data, 1, static_cast<size_t>(n), f);
  fclose(f);
  return *size == static_cast<size_t>(n) ? data : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: qbuild-prepare model.tflite\n");
    return 2;
  }
  size_t size = 0;
  unsigned char* model = read_file(argv[1], &size);
  if (!model) return 2;
  const size_t arena_size = 256u << 20;
  auto* arena = static_cast<unsigned char*>(aligned_alloc(16, arena_size));
  memset(arena, 0, arena_size);  // the padding after the op data is copied too: keep the output deterministic
  static qbuild::Model m;
  qbuild::Status s = m.load(model, size, arena, arena_size);
  if (s != qbuild::Status::kOk) {
    printf("{\"status\": \"%s\", \"error_op\": %d}\n", qbuild::status_str(s), m.error_op());
    return 1;
  }
  const qbuild::Model::Layout l = m.layout();
  printf("{\"status\": \"ok\", \"subgraph_pos\": %u, \"inputs_pos\": %u, \"inputs_len\": %u, \"outputs_pos\": %u, "
         "\"outputs_len\": %u,\n \"tensors\": [",
         l.subgraph_pos, l.inputs_pos, l.inputs_len, l.outputs_pos, l.outputs_len);
  const uintptr_t base = reinterpret_cast<uintptr_t>(model);
  // The op data ends where the activations begin: the first buffer a first-fit plan places is at offset 0.
  uintptr_t activations = reinterpret_cast<uintptr_t>(l.arena) + m.arena_used_bytes();
  for (size_t i = 0; i < m.tensors_size(); ++i) {
    const qbuild::TensorView& t = *m.tensor(i);
    const uintptr_t p = reinterpret_cast<uintptr_t>(t.data.raw);
    if (t.data.raw && !t.is_constant && p < activations) activations = p;
  }
  for (size_t i = 0; i < m.ops_size(); ++i) {
    const uint32_t scratch = l.nodes[i].scratch_off;
    if (scratch != qbuild::kNoScratch && reinterpret_cast<uintptr_t>(l.arena) + scratch < activations) {
      activations = reinterpret_cast<uintptr_t>(l.arena) + scratch;
    }
  }
  for (size_t i = 0; i < m.tensors_size(); ++i) {
    const qbuild::TensorView& t = *m.tensor(i);
    const uintptr_t p = reinterpret_cast<uintptr_t>(t.data.raw);
    // kind 0: no data (no op uses it), 1: constant at `offset` in the model, 2: activation at `offset` in the
    // run-time plan (the build plans its own), 3: op state (a variable tensor) at `offset` from the start of the op
    // data, where load() puts the state before any op's data.
    const bool in_model = p >= base && p < base + size;
    const int kind = !t.data.raw ? 0 : t.is_constant ? (in_model ? 1 : 3) : 2;
    const uintptr_t op_data = reinterpret_cast<uintptr_t>(l.arena) + l.op_data_begin;
    const uintptr_t offset = kind == 1 ? p - base : kind == 2 ? p - activations : kind == 3 ? p - op_data : 0;
    uint32_t scale_bits;
    memcpy(&scale_bits, &t.params.scale, 4);
    printf("%s\n  [%d, %lu, %u, %d, [", i ? "," : "", kind, static_cast<unsigned long>(offset), scale_bits,
           t.params.zero_point);
    for (int d = 0; d < QBUILD_MAX_DIMS; ++d) printf("%s%d", d ? ", " : "", t.dims[d]);
    printf("], %u, %d, %d, %d]", t.bytes, static_cast<int>(t.type), t.rank, t.is_constant);
  }
  printf("],\n \"ops\": [");
  for (size_t i = 0; i < m.ops_size(); ++i) {
    const qbuild::OpNode& n = l.nodes[i];
    printf("%s\n  [%u, %u, %d]", i ? "," : "", n.op_pos, n.data_off - l.op_data_begin,
           n.scratch_off != qbuild::kNoScratch);
  }
  printf("],\n \"op_data\": \"");
  const uint32_t op_data_end = static_cast<uint32_t>(activations - reinterpret_cast<uintptr_t>(l.arena));
  for (uint32_t k = l.op_data_begin; k < op_data_end; ++k) printf("%02x", l.arena[k]);
  printf("\"}\n");
  return 0;
}
