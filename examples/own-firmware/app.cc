// The application: classifies one 8x8 image with qbuild's runtime and leaves the class in a global a debugger reads.
#include <stdint.h>

#include "qbuild/qbuild.h"
#include "sl_tflite_micro_model.h"
#include "sl_tflite_micro_model_parameters.h"

alignas(16) static uint8_t tensor_arena[SL_TFLITE_MODEL_RUNTIME_MEMORY_SIZE];
volatile int app_class = -1;

int main() {
  static qbuild::Model model;
  if (model.load(sl_tflite_model_array, sl_tflite_model_len, tensor_arena, sizeof(tensor_arena)) != qbuild::Status::kOk)
    return 1;
  float scaler = 1.0f;
  model.parameters().get("samplewise_norm.rescale", scaler);
  uint8_t image[64];
  for (int i = 0; i < 64; ++i) image[i] = (i % 9 == 0) ? 16 : 0;  // a diagonal stroke
  qbuild::scale_to_float(image, model.input(0)->data.f, 64, scaler);
  if (model.invoke() != qbuild::Status::kOk) return 1;
  const qbuild::TensorView* out = model.output(0);
  int best = 0;
  for (int i = 1; i < (int)out->elements(); ++i)
    if (out->data.f[i] > out->data.f[best]) best = i;
  app_class = best;
  return 0;
}
