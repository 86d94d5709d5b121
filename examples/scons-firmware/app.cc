// The application of an existing firmware project: runs qbuild's digits model on a blank and a filled 8x8 image.
#include <stdio.h>
#include <stdint.h>

#include "qbuild/qbuild.h"
#include "sl_tflite_micro_model.h"
#include "sl_tflite_micro_model_parameters.h"

alignas(16) static uint8_t tensor_arena[SL_TFLITE_MODEL_RUNTIME_MEMORY_SIZE + 1024];  // + host pointer bookkeeping

int main() {
  qbuild::Model model;
  qbuild::Status s = model.load(sl_tflite_model_array, sl_tflite_model_len, tensor_arena, sizeof(tensor_arena));
  if (s != qbuild::Status::kOk) {
    printf("load failed: %s\n", qbuild::status_str(s));
    return 1;
  }
  float scaler = 1.0f;
  model.parameters().get("samplewise_norm.rescale", scaler);
  const uint8_t pixels[2] = {0, 16};
  for (uint8_t p : pixels) {
    qbuild::TensorView* in = model.input(0);
    uint8_t image[64];
    for (uint8_t& v : image) v = p;
    qbuild::scale_to_float(image, in->data.f, 64, scaler);
    if (model.invoke() != qbuild::Status::kOk) return 1;
    const qbuild::TensorView* out = model.output(0);
    size_t best = 0;
    for (size_t i = 1; i < out->elements(); ++i) if (out->data.f[i] > out->data.f[best]) best = i;
    printf("image of %u: class %zu (p=%.3f), arena used %zu bytes\n", p, best, out->data.f[best], model.arena_used_bytes());
  }
  return 0;
}
