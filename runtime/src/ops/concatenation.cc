// CONCATENATION along one axis. Like TFLM, int8 inputs are copied without requantization (the converter gives all
// inputs the output's quantization).
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {
namespace {

// Resolved axis, or -1 when shapes/types/options disagree.
int resolve(const OpContext& ctx) {
  const TensorView* out = ctx.output(0);
  if (!out || ctx.input_count() < 1) return -1;
  int32_t axis = ctx.fb->scalar<int32_t>(ctx.options, schema::concat::kAxis, 0);
  int32_t act = ctx.fb->scalar<int8_t>(ctx.options, schema::concat::kActivation, 0);
  if (act != schema::kActNone) return -1;
  if (axis < 0) axis += out->rank;
  if (axis < 0 || axis >= out->rank) return -1;
  int64_t sum = 0;
  for (int i = 0; i < ctx.input_count(); ++i) {
    const TensorView* in = ctx.input(i);
    if (!in || in->type != out->type || in->rank != out->rank) return -1;
    for (int d = 0; d < out->rank; ++d) {
      if (d != axis && in->dims[d] != out->dims[d]) return -1;
    }
    sum += in->dims[axis];
  }
  return sum == out->dims[axis] ? axis : -1;
}

}  // namespace

Status prepare_concatenation(OpContext& ctx) { return resolve(ctx) < 0 ? Status::kBadOpParams : Status::kOk; }

Status eval_concatenation(OpContext& ctx) {
  const int axis = resolve(ctx);  // >= 0: checked in Prepare
  QBUILD_DEBUG_ASSERT(axis >= 0);
  TensorView* out = ctx.output(0);
  uint32_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= static_cast<uint32_t>(out->dims[d]);
  uint8_t* dst = static_cast<uint8_t*>(out->data.raw);
  for (uint32_t o = 0; o < outer; ++o) {
    for (int i = 0; i < ctx.input_count(); ++i) {
      const TensorView* in = ctx.input(i);
      const uint32_t chunk = in->bytes / outer;
      memcpy(dst, static_cast<const uint8_t*>(in->data.raw) + o * chunk, chunk);
      dst += chunk;
    }
  }
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
