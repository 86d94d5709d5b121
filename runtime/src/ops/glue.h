// Conversions between the runtime's TensorView and the kernels' plain shapes/quantization.
#ifndef QBUILD_SRC_OPS_GLUE_H_
#define QBUILD_SRC_OPS_GLUE_H_

#include "../../kernels/kernels.h"
#include "ops.h"

namespace qbuild {
namespace ops {

namespace k = kernels;

// Right-aligned NHWC shape; callers check rank <= 4 in Prepare.
inline k::Shape4 shape4(const TensorView& t) {
  k::Shape4 s{1, 1, 1, 1};
  k::shape4_from_dims(t.dims, t.rank, &s);
  return s;
}

inline k::QuantInfo quant(const TensorView& t) { return k::QuantInfo{t.params.scale, t.params.zero_point}; }

inline Status from(k::Status s) { return from_kernel(static_cast<int32_t>(s)); }

// One int8 input and one int8 output of the same shape (the elementwise activations).
inline bool unary_int8(const OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  return ctx.input_count() == 1 && ctx.output_count() == 1 && is_int8(in) && is_int8(out) && same_shape(*in, *out);
}

}  // namespace ops
}  // namespace qbuild

#endif  // QBUILD_SRC_OPS_GLUE_H_
