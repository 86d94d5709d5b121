// Input preprocessing that matches qbuild/preprocess.py bit for bit (float32, same operation order).
// The runtime is compiled with -ffp-contract=off so no multiply-add is fused.
#ifndef QBUILD_PREPROCESS_H_
#define QBUILD_PREPROCESS_H_

#include <stddef.h>
#include <stdint.h>

namespace qbuild {

// dst[i] = (x[i] - mean) / (std + 1e-6f), mean and std over all n values (population std, sequential float sums).
void samplewise_mean_std(const uint8_t* src, float* dst, size_t n);
void samplewise_mean_std(const int8_t* src, float* dst, size_t n);
void samplewise_mean_std(const uint16_t* src, float* dst, size_t n);
void samplewise_mean_std(const int16_t* src, float* dst, size_t n);
void samplewise_mean_std(const float* src, float* dst, size_t n);

// dst[i] = (float)x[i] * scale (samplewise_norm.rescale).
void scale_to_float(const uint8_t* src, float* dst, size_t n, float scale);
void scale_to_float(const int8_t* src, float* dst, size_t n, float scale);
void scale_to_float(const uint16_t* src, float* dst, size_t n, float scale);
void scale_to_float(const int16_t* src, float* dst, size_t n, float scale);
void scale_to_float(const float* src, float* dst, size_t n, float scale);

}  // namespace qbuild

#endif  // QBUILD_PREPROCESS_H_
