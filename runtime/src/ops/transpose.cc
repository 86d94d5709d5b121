// TRANSPOSE (Keras Permute): output axis i is input axis perm[i]. Data movement for any element type, rank <= 6.
#include <string.h>

#include "ops.h"
#include "qbuild/port.h"

namespace qbuild {
namespace ops {
namespace {

// Input element strides in output axis order; false when the permutation or the output shape is wrong.
bool resolve(const OpContext& ctx, int32_t* strides) {
  const TensorView* in = ctx.input(0);
  const TensorView* perm = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !in || !perm || !out || in->type != out->type ||
      in->rank != out->rank || in->rank < 1 || !perm->is_constant || perm->rank != 1 ||
      perm->elements() != static_cast<size_t>(in->rank)) {
    return false;
  }
  int32_t in_strides[QBUILD_MAX_DIMS];
  int32_t s = 1;
  for (int d = in->rank - 1; d >= 0; --d) {
    in_strides[d] = s;
    s *= in->dims[d];
  }
  uint32_t seen = 0;
  for (int i = 0; i < out->rank; ++i) {
    int64_t p;
    if (!read_index(*perm, static_cast<uint32_t>(i), &p)) return false;
    if (p < 0) p += in->rank;  // TFLM accepts negative axes
    if (p < 0 || p >= in->rank || (seen & (1u << p)) || out->dims[i] != in->dims[p]) return false;
    seen |= 1u << p;
    strides[i] = in_strides[p];
  }
  return true;
}

}  // namespace

Status prepare_transpose(OpContext& ctx) {
  int32_t strides[QBUILD_MAX_DIMS];
  return resolve(ctx, strides) ? Status::kOk : Status::kBadOpParams;
}

Status eval_transpose(OpContext& ctx) {
  int32_t strides[QBUILD_MAX_DIMS];
  resolve(ctx, strides);  // checked in Prepare
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  const int rank = out->rank;
  const size_t es = type_size(in->type);
  const uint8_t* src = static_cast<const uint8_t*>(in->data.raw);
  uint8_t* dst = static_cast<uint8_t*>(out->data.raw);
  int32_t index[QBUILD_MAX_DIMS] = {};
  int32_t offset = 0;  // input element of the current output element
  const size_t n = out->elements();
  for (size_t i = 0; i < n; ++i) {
    memcpy(dst, src + static_cast<size_t>(offset) * es, es);
    dst += es;
    // Odometer over the output index, last axis fastest.
    for (int d = rank - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < out->dims[d]) break;
      offset -= strides[d] * out->dims[d];
      index[d] = 0;
    }
  }
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
