// STRIDED_SLICE with begin/end/shrink masks and the offset option (TFLite's strided_slice_logic.h semantics).
// Ellipsis and new-axis masks are rejected, as in TFLM.
#include <string.h>

#include "ops.h"

namespace qbuild {
namespace ops {
namespace {

struct Slice {
  int rank;
  int32_t start[QBUILD_MAX_DIMS];
  int32_t stride[QBUILD_MAX_DIMS];
  int32_t count[QBUILD_MAX_DIMS];  // elements taken along each input axis
};

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Resolves the slice; false when the indices, masks or output shape are inconsistent.
bool resolve(const OpContext& ctx, Slice* s) {
  const TensorView* in = ctx.input(0);
  const TensorView* begin = ctx.input(1);
  const TensorView* end = ctx.input(2);
  const TensorView* strides = ctx.input(3);
  const TensorView* out = ctx.output(0);
  if (!in || !begin || !end || !strides || !out || in->type != out->type) return false;
  const FbReader& fb = *ctx.fb;
  int32_t begin_mask = fb.scalar<int32_t>(ctx.options, schema::strided_slice::kBeginMask, 0);
  int32_t end_mask = fb.scalar<int32_t>(ctx.options, schema::strided_slice::kEndMask, 0);
  int32_t ellipsis = fb.scalar<int32_t>(ctx.options, schema::strided_slice::kEllipsisMask, 0);
  int32_t new_axis = fb.scalar<int32_t>(ctx.options, schema::strided_slice::kNewAxisMask, 0);
  int32_t shrink = fb.scalar<int32_t>(ctx.options, schema::strided_slice::kShrinkAxisMask, 0);
  bool offset = fb.scalar<uint8_t>(ctx.options, schema::strided_slice::kOffset, 0) != 0;
  if (ellipsis != 0 || new_axis != 0) return false;
  const int rank = in->rank;
  if (begin->elements() != static_cast<size_t>(rank) || end->elements() != static_cast<size_t>(rank) ||
      strides->elements() != static_cast<size_t>(rank)) {
    return false;
  }
  s->rank = rank;
  int out_rank = 0;
  for (int a = 0; a < rank; ++a) {
    int64_t b, e, st;
    if (!read_index(*begin, a, &b) || !read_index(*end, a, &e) || !read_index(*strides, a, &st) || st == 0) return false;
    if (st > INT32_MAX || st < -INT32_MAX) return false;
    const int64_t dim = in->dims[a];
    if (offset) e += b;
    int64_t start;
    if (begin_mask & (1 << a)) {
      start = st > 0 ? 0 : dim - 1;
    } else {
      start = b < 0 ? b + dim : b;
      start = st > 0 ? clamp64(start, 0, dim) : clamp64(start, -1, dim - 1);
    }
    int64_t stop;
    if (shrink & (1 << a)) {
      // A shrunk axis takes exactly one element, which must exist.
      if (start < 0 || start >= dim) return false;
      stop = start + 1;
      st = 1;
    } else if (end_mask & (1 << a)) {
      stop = st > 0 ? dim : -1;
    } else {
      stop = e < 0 ? e + dim : e;
      stop = st > 0 ? clamp64(stop, 0, dim) : clamp64(stop, -1, dim - 1);
    }
    int64_t n = st > 0 ? (stop - start + st - 1) / st : (start - stop + (-st) - 1) / (-st);
    if (n < 0) n = 0;
    s->start[a] = static_cast<int32_t>(start);
    s->stride[a] = static_cast<int32_t>(st);
    s->count[a] = static_cast<int32_t>(n);
    if (!(shrink & (1 << a))) {
      if (out_rank >= out->rank || out->dims[out_rank] != n) return false;
      ++out_rank;
    }
  }
  return out_rank == out->rank;
}

void copy_axis(const Slice& s, const TensorView& in, int a, int64_t src_index, uint8_t** dst, size_t es) {
  for (int32_t i = 0; i < s.count[a]; ++i) {
    int64_t idx = src_index * in.dims[a] + s.start[a] + static_cast<int64_t>(i) * s.stride[a];
    if (a == s.rank - 1) {
      memcpy(*dst, static_cast<const uint8_t*>(in.data.raw) + idx * static_cast<int64_t>(es), es);
      *dst += es;
    } else {
      copy_axis(s, in, a + 1, idx, dst, es);
    }
  }
}

bool has_constant_indices(const OpContext& ctx) {
  for (int i = 1; i <= 3; ++i) {
    const TensorView* t = ctx.input(i);
    if (!t || !t->is_constant) return false;
  }
  return true;
}

}  // namespace

Status prepare_strided_slice(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  if (ctx.input_count() != 4 || !in || in->rank < 1) return Status::kBadOpParams;
  for (int i = 1; i <= 3; ++i) {
    const TensorView* t = ctx.input(i);
    if (!t || (t->type != TensorType::kInt32 && t->type != TensorType::kInt64) || t->rank != 1) {
      return Status::kBadOpParams;
    }
  }
  Slice s;
  if (has_constant_indices(ctx) && !resolve(ctx, &s)) return Status::kBadOpParams;
  return Status::kOk;
}

Status eval_strided_slice(OpContext& ctx) {
  Slice s;
  if (!resolve(ctx, &s)) return Status::kEvalFailed;  // run-time indices disagree with the model's output shape
  const TensorView* in = ctx.input(0);
  uint8_t* dst = static_cast<uint8_t*>(ctx.output(0)->data.raw);
  copy_axis(s, *in, 0, 0, &dst, type_size(in->type));
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
