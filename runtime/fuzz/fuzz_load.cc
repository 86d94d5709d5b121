// libFuzzer harness: load() + invoke() on arbitrary bytes must never crash, hang or read out of bounds.
// Build (clang 14): see docs/runtime.md or tests/harness.py build_fuzzer(); seed corpus: valid .tflite files.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qbuild/qbuild.h"

namespace {
constexpr size_t kArenaBytes = 256 * 1024;
alignas(16) uint8_t g_arena[kArenaBytes];
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, 16-byte aligned as the runtime requires: ASan tracks the allocation's exact size
  // (posix_memalign has no size rule), so a read even one byte past the model is reported.
  void* buffer = nullptr;
  if (posix_memalign(&buffer, 16, size ? size : 1) != 0) return 0;
  uint8_t* model = static_cast<uint8_t*>(buffer);
  if (size) memcpy(model, data, size);
  const uint8_t* exact = model;
  qbuild::Model m;
  qbuild::Status s = m.load(exact, size, g_arena, kArenaBytes);
  if (s == qbuild::Status::kOk) {
    for (size_t i = 0; i < m.inputs_size(); ++i) {
      qbuild::TensorView* t = m.input(i);
      if (t->data.raw) memset(t->data.raw, static_cast<int>(i * 37 + 5), t->bytes);
    }
    m.invoke();
    float f;
    int32_t n;
    bool b;
    const char* str;
    m.parameters().get("samplewise_norm.rescale", f);
    m.parameters().get("runtime_memory_size", n);
    m.parameters().get("samplewise_norm.mean_and_std", b);
    m.parameters().get("name", str);
  }
  free(model);
  return 0;
}
