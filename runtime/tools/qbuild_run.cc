// qbuild-run: host harness. Loads a .tflite, feeds raw input bytes, writes raw output bytes.
//   qbuild-run model.tflite input.bin output.bin [--arena BYTES] [--repeat N] [--invokes N]
//   qbuild-run model.tflite --info
//   qbuild-run model.tflite --param KEY     (what Parameters::get gives for each type, null when it returns false)
//   qbuild-run --preprocess mean_std|rescale:<scale> u8|i8|u16|i16|f32 raw.bin out.bin   (float32 result)
// input.bin holds every input tensor's bytes back to back (in input order); output.bin gets every output's bytes.
// --invokes N: copy the inputs and invoke N times after one load (op state such as an LSTM's carries over); the
// output is the last invoke's.
// Prints one JSON line: {"status": ..., "arena_used_bytes": N, "invoke_ns": per-invoke time when --repeat is given}.
#include <chrono>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbuild/qbuild.h"

namespace {

bool read_file(const char* path, unsigned char** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return false;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  // 16-byte aligned copy, as the model array in firmware is.
  *data = static_cast<unsigned char*>(aligned_alloc(16, (static_cast<size_t>(n) + 15) / 16 * 16 + 16));
  *size = fread(*data, 1, static_cast<size_t>(n), f);
  fclose(f);
  return *size == static_cast<size_t>(n);
}

int fail(const char* what, qbuild::Status s, const qbuild::Model& m) {
  printf("{\"status\": \"%s\", \"code\": %d, \"where\": \"%s\", \"error_op\": %d}\n", qbuild::status_str(s),
         static_cast<int>(s), what, m.error_op());
  return 1;
}

template <typename T>
void preprocess(const unsigned char* raw, size_t bytes, const char* mode, float* out) {
  const T* src = reinterpret_cast<const T*>(raw);
  const size_t n = bytes / sizeof(T);
  if (strcmp(mode, "mean_std") == 0) {
    qbuild::samplewise_mean_std(src, out, n);
  } else {
    qbuild::scale_to_float(src, out, n, strtof(mode + strlen("rescale:"), nullptr));
  }
}

// The preprocessing helpers alone, for comparison with qbuild/preprocess.py.
int run_preprocess(int argc, char** argv) {
  if (argc != 6) return 2;
  const char* mode = argv[2];
  const char* type = argv[3];
  unsigned char* raw;
  size_t bytes;
  if (!read_file(argv[4], &raw, &bytes)) return 2;
  size_t n = bytes;
  float* out = static_cast<float*>(aligned_alloc(16, (n * sizeof(float) + 15) / 16 * 16 + 16));
  size_t count = 0;
  if (strcmp(type, "u8") == 0) preprocess<uint8_t>(raw, bytes, mode, out), count = bytes;
  else if (strcmp(type, "i8") == 0) preprocess<int8_t>(raw, bytes, mode, out), count = bytes;
  else if (strcmp(type, "u16") == 0) preprocess<uint16_t>(raw, bytes, mode, out), count = bytes / 2;
  else if (strcmp(type, "i16") == 0) preprocess<int16_t>(raw, bytes, mode, out), count = bytes / 2;
  else if (strcmp(type, "f32") == 0) preprocess<float>(raw, bytes, mode, out), count = bytes / 4;
  else return 2;
  FILE* f = fopen(argv[5], "wb");
  if (!f) return 2;
  fwrite(out, sizeof(float), count, f);
  fclose(f);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--preprocess") == 0) return run_preprocess(argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: qbuild-run model.tflite input.bin output.bin [--arena BYTES] [--repeat N]\n"
                    "       qbuild-run model.tflite --info\n");
    return 2;
  }
  size_t arena_size = 64u << 20;
  long repeat = 0;
  long invokes = 1;
  bool info = strcmp(argv[2], "--info") == 0;
  for (int i = info ? 3 : 4; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--arena") == 0) arena_size = strtoull(argv[i + 1], nullptr, 10);
    if (strcmp(argv[i], "--repeat") == 0) repeat = strtol(argv[i + 1], nullptr, 10);
    if (strcmp(argv[i], "--invokes") == 0) invokes = strtol(argv[i + 1], nullptr, 10);
  }
  unsigned char* model_data;
  size_t model_size;
  if (!read_file(argv[1], &model_data, &model_size)) {
    fprintf(stderr, "qbuild-run: cannot read %s\n", argv[1]);
    return 2;
  }
  auto* arena = static_cast<unsigned char*>(aligned_alloc(16, (arena_size + 15) / 16 * 16));
  static qbuild::Model model;
  qbuild::Status s = model.load(model_data, model_size, arena, arena_size);
  if (s != qbuild::Status::kOk) return fail("load", s, model);
  if (strcmp(argv[2], "--param") == 0 && argc == 4) {
    const qbuild::Parameters& p = model.parameters();
    float f;
    int32_t i;
    bool b;
    const char* str;
    printf("{\"float\": ");
    p.get(argv[3], f) ? printf("%.9g", static_cast<double>(f)) : printf("null");
    printf(", \"int32\": ");
    p.get(argv[3], i) ? printf("%d", static_cast<int>(i)) : printf("null");
    printf(", \"bool\": %s", p.get(argv[3], b) ? (b ? "true" : "false") : "null");
    printf(", \"str\": ");
    p.get(argv[3], str) ? printf("\"%s\"", str) : printf("null");  // test keys hold no quotes
    printf("}\n");
    return 0;
  }
  if (info) {
    printf("{\"status\": \"ok\", \"arena_used_bytes\": %zu, \"tensors\": %zu, \"ops\": %zu, \"parameters\": %zu}\n",
           model.arena_used_bytes(), model.tensors_size(), model.ops_size(), model.parameters().size());
    return 0;
  }
  if (argc < 4) return 2;
  unsigned char* input;
  size_t input_size;
  if (!read_file(argv[2], &input, &input_size)) {
    fprintf(stderr, "qbuild-run: cannot read %s\n", argv[2]);
    return 2;
  }
  for (long k = 0; k < invokes; ++k) {
    size_t pos = 0;
    for (size_t i = 0; i < model.inputs_size(); ++i) {
      qbuild::TensorView* t = model.input(i);
      if (pos + t->bytes > input_size) {
        fprintf(stderr, "qbuild-run: %s has %zu bytes, inputs need more\n", argv[2], input_size);
        return 2;
      }
      memcpy(t->data.raw, input + pos, t->bytes);
      pos += t->bytes;
    }
    s = model.invoke();
    if (s != qbuild::Status::kOk) return fail("invoke", s, model);
  }
  long long ns = 0;
  if (repeat > 0) {
    auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < repeat; ++r) model.invoke();
    auto t1 = std::chrono::steady_clock::now();
    ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count() / repeat;
  }
  FILE* out = fopen(argv[3], "wb");
  if (!out) return 2;
  for (size_t i = 0; i < model.outputs_size(); ++i) {
    const qbuild::TensorView* t = model.output(i);
    fwrite(t->data.raw, 1, t->bytes, out);
  }
  fclose(out);
  printf("{\"status\": \"ok\", \"arena_used_bytes\": %zu, \"invoke_ns\": %lld}\n", model.arena_used_bytes(), ns);
  return 0;
}
