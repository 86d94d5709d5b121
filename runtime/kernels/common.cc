#include "common.h"

#include <math.h>

namespace qbuild {
namespace kernels {

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kBadShape: return "bad shape";
    case Status::kBadQuantization: return "bad quantization parameters";
    case Status::kUnsupportedActivation: return "unsupported fused activation";
    case Status::kUnsupportedPadding: return "unsupported padding";
    case Status::kUnsupportedOptions: return "unsupported options";
    case Status::kUnsupportedQuantization: return "unsupported quantization for this op";
  }
  return "unknown status";
}

Status shape4_from_dims(const int32_t* dims, int32_t rank, Shape4* out) {
  if (rank < 0 || rank > 4) return Status::kBadShape;
  int32_t d[4] = {1, 1, 1, 1};
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0) return Status::kBadShape;
    d[4 - rank + i] = dims[i];
  }
  *out = Shape4{d[0], d[1], d[2], d[3]};
  return Status::kOk;
}

int32_t round_to_i32_saturated(float f) {
  const float r = roundf(f);
  if (r >= 1073741824.0f) return 1073741824;
  if (r <= -1073741824.0f) return -1073741824;
  if (r != r) return 0;
  return static_cast<int32_t>(r);
}

bool sane_shape(const Shape4& s) {
  const int32_t d[4] = {s.n, s.h, s.w, s.c};
  int64_t total = 1;
  for (int32_t v : d) {
    if (v < 1 || v > (1 << 24)) return false;
    total *= v;
    if (total > INT32_MAX) return false;
  }
  return true;
}

bool valid_quant(QuantInfo q) {
  return q.scale > 0.0f && q.scale <= 3.4e38f && q.zero_point >= -128 && q.zero_point <= 127;
}

void quantize_multiplier(double m, int32_t* multiplier, int32_t* shift) {
  if (m == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int exponent = 0;
  const double q = frexp(m, &exponent);
  int64_t q_fixed = static_cast<int64_t>(round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {  // everything would be shifted out: TFLite flushes to zero
    exponent = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
}

Status activation_range(Activation act, QuantInfo output, int32_t* act_min, int32_t* act_max) {
  // TFLite quantizes the bounds in float: zero_point + (int)round(f / scale).
  const auto quantize = [&output](float f) {
    return output.zero_point + round_to_i32_saturated(f / output.scale);
  };
  int32_t lo = -128;
  int32_t hi = 127;
  switch (act) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      lo = quantize(0.0f) > lo ? quantize(0.0f) : lo;
      break;
    case Activation::kRelu6:
      lo = quantize(0.0f) > lo ? quantize(0.0f) : lo;
      hi = quantize(6.0f) < hi ? quantize(6.0f) : hi;
      break;
    case Activation::kReluN1To1:
      lo = quantize(-1.0f) > lo ? quantize(-1.0f) : lo;
      hi = quantize(1.0f) < hi ? quantize(1.0f) : hi;
      break;
    default:
      return Status::kUnsupportedActivation;
  }
  *act_min = lo;
  *act_max = hi;
  return Status::kOk;
}

}  // namespace kernels
}  // namespace qbuild
