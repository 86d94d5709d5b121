// TensorView: what kernels and applications see of a tensor (shape, type, quantization, data pointer).
#ifndef QBUILD_TENSOR_H_
#define QBUILD_TENSOR_H_

#include <stddef.h>
#include <stdint.h>

#include "qbuild/port.h"

namespace qbuild {

// Values are the TFLite schema's TensorType ids.
enum class TensorType : uint8_t {
  kFloat32 = 0,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kBool = 6,
  kInt16 = 7,
  kInt8 = 9,
};

size_t type_size(TensorType t);  // bytes per element, 0 for an unknown type

// Per-tensor quantization (real = scale * (q - zero_point)). Per-channel weights keep their scales in the model and
// only the glue reads them.
struct QuantParams {
  float scale;
  int32_t zero_point;
};

struct TensorView {
  union {
    float* f;
    int8_t* int8;
    uint8_t* uint8;
    int16_t* i16;
    int32_t* i32;
    int64_t* i64;
    void* raw;
  } data;                         // null for a tensor no op reads or writes
  QuantParams params;             // scale 0 when the tensor is not quantized
  int32_t dims[QBUILD_MAX_DIMS];  // dims[0..rank)
  uint32_t bytes;                 // element count * type_size(type)
  TensorType type;
  uint8_t rank;
  uint8_t is_constant;            // data lives in the model (flash), read-only
  uint8_t is_variable;            // op state kept across invoke() (LSTM), in the arena; also is_constant (unplanned)

  size_t elements() const;        // product of dims (1 for a scalar)
  int32_t dim(int i) const { return dims[i]; }
};

}  // namespace qbuild

#endif  // QBUILD_TENSOR_H_
