// Built with -ffp-contract=off: the order of float operations below is the contract with qbuild/preprocess.py.
#include "qbuild/preprocess.h"

#include <math.h>

namespace qbuild {
namespace {

template <typename T>
void mean_std(const T* src, float* dst, size_t n) {
  if (n == 0) return;
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += static_cast<float>(src[i]);
  const float mean = sum / static_cast<float>(n);
  float acc = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float d = static_cast<float>(src[i]) - mean;
    acc += d * d;
  }
  const float var = acc / static_cast<float>(n);
  const float denom = sqrtf(var) + 1e-6f;
  // src and dst may alias (float input normalised in place): each element is read before it is written.
  for (size_t i = 0; i < n; ++i) dst[i] = (static_cast<float>(src[i]) - mean) / denom;
}

template <typename T>
void rescale(const T* src, float* dst, size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) * scale;
}

}  // namespace

void samplewise_mean_std(const uint8_t* src, float* dst, size_t n) { mean_std(src, dst, n); }
void samplewise_mean_std(const int8_t* src, float* dst, size_t n) { mean_std(src, dst, n); }
void samplewise_mean_std(const uint16_t* src, float* dst, size_t n) { mean_std(src, dst, n); }
void samplewise_mean_std(const int16_t* src, float* dst, size_t n) { mean_std(src, dst, n); }
void samplewise_mean_std(const float* src, float* dst, size_t n) { mean_std(src, dst, n); }

void scale_to_float(const uint8_t* src, float* dst, size_t n, float scale) { rescale(src, dst, n, scale); }
void scale_to_float(const int8_t* src, float* dst, size_t n, float scale) { rescale(src, dst, n, scale); }
void scale_to_float(const uint16_t* src, float* dst, size_t n, float scale) { rescale(src, dst, n, scale); }
void scale_to_float(const int16_t* src, float* dst, size_t n, float scale) { rescale(src, dst, n, scale); }
void scale_to_float(const float* src, float* dst, size_t n, float scale) { rescale(src, dst, n, scale); }

}  // namespace qbuild
