/* qbuild from plain C: the digits model's C array (`python -m qbuild build digits` writes sl_tflite_micro_model.c/.h)
 * run on a few 8x8 images (samples.h) through the C API of "qbuild/qbuild.h". No C++ in this file, no heap.
 *
 * Per sample it prints one line: qbuild-result <sample> <class> <output 0> <output 1> ...
 * with float32 outputs as the 8 hex digits of their IEEE bits and int8 outputs as decimals (the format qbuild's
 * generated firmware prints, so tests compare it with the TFLM interpreter bit for bit). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qbuild/qbuild.h"
#include "samples.h"
#include "sl_tflite_micro_model.h"

/* `python -m qbuild plan digits.tflite` gives the exact size for a 32-bit target; a 64-bit host needs more (pointers
 * in the tensor records), so this leaves room. */
#ifndef ARENA_BYTES
#define ARENA_BYTES (16 * 1024)
#endif

static _Alignas(16) uint8_t arena[ARENA_BYTES];
static qbuild_model model;

/* Raw pixels -> the input tensor, as the model's parameters say (samplewise_norm.rescale or .mean_and_std, else the
 * plain value), quantized when the model takes int8. */
static int fill_input(const uint8_t* raw, size_t n) {
  static float x[DIGITS_SAMPLE_PIXELS];
  qbuild_tensor in;
  float scale;
  bool mean_std = false;
  size_t i;
  if (qbuild_input(&model, 0, &in) != QBUILD_STATUS_OK || in.elements != n) return 0;
  if (qbuild_param_bool(&model, "samplewise_norm.mean_and_std", &mean_std) && mean_std) {
    qbuild_samplewise_mean_std(raw, x, n);
  } else if (qbuild_param_float(&model, "samplewise_norm.rescale", &scale)) {
    qbuild_scale_to_float(raw, x, n, scale);
  } else {
    qbuild_scale_to_float(raw, x, n, 1.0f);
  }
  if (in.type == QBUILD_TYPE_FLOAT32) {
    memcpy(in.data, x, n * sizeof(float));
    return 1;
  }
  if (in.type != QBUILD_TYPE_INT8) return 0;
  for (i = 0; i < n; ++i) {
    float q = roundf(x[i] / in.scale) + (float)in.zero_point;
    ((int8_t*)in.data)[i] = (int8_t)(q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q);
  }
  return 1;
}

static int print_result(int sample) {
  qbuild_tensor out;
  size_t i, best = 0;
  qbuild_output(&model, 0, &out);
  for (i = 1; i < out.elements; ++i) {
    if (out.type == QBUILD_TYPE_FLOAT32 ? ((const float*)out.data)[i] > ((const float*)out.data)[best]
                                        : ((const int8_t*)out.data)[i] > ((const int8_t*)out.data)[best]) {
      best = i;
    }
  }
  printf("qbuild-result %d %d", sample, (int)best);
  for (i = 0; i < out.elements; ++i) {
    if (out.type == QBUILD_TYPE_FLOAT32) {
      uint32_t bits;
      memcpy(&bits, (const float*)out.data + i, sizeof(bits));
      printf(" %08lx", (unsigned long)bits);
    } else {
      printf(" %d", (int)((const int8_t*)out.data)[i]);
    }
  }
  printf("\n");
  return (int)best;
}

int main(void) {
  const char* name = "?";
  int s;
  qbuild_status st = qbuild_load(&model, sl_tflite_model_array, sl_tflite_model_len, arena, sizeof(arena));
  if (st != QBUILD_STATUS_OK) {
    printf("load failed: %s (op %d)\n", qbuild_status_str(st), qbuild_error_op(&model));
    return 1;
  }
  qbuild_param_str(&model, "name", &name);
  printf("model %s: %u inputs, %u outputs, arena %u of %u bytes\n", name, (unsigned)qbuild_inputs_size(&model),
         (unsigned)qbuild_outputs_size(&model), (unsigned)qbuild_arena_used_bytes(&model), (unsigned)sizeof(arena));
  for (s = 0; s < DIGITS_SAMPLE_COUNT; ++s) {
    if (!fill_input(digits_samples[s], DIGITS_SAMPLE_PIXELS)) {
      printf("the model's input is not %d float32 or int8 values\n", DIGITS_SAMPLE_PIXELS);
      return 1;
    }
    st = qbuild_invoke(&model);
    if (st != QBUILD_STATUS_OK) {
      printf("invoke failed: %s (op %d)\n", qbuild_status_str(st), qbuild_error_op(&model));
      return 1;
    }
    printf("  sample %d: predicted %d, label %d\n", s, print_result(s), digits_labels[s]);
  }
  return 0;
}
