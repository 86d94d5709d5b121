// Helpers shared by the op glue.
#include <string.h>

#include "../../kernels/common.h"
#include "glue.h"

namespace qbuild {

const float* OpContext::scales(int i, uint32_t* count, int32_t* quantized_dimension) const {
  *count = 0;
  *quantized_dimension = 0;
  if (i < 0 || static_cast<uint32_t>(i) >= inputs.length) return nullptr;
  int32_t idx = fb->element<int32_t>(inputs, static_cast<uint32_t>(i));
  if (idx < 0 || static_cast<uint32_t>(idx) >= tensor_tables.length) return nullptr;
  FbTable q = fb->table(fb->table_element(tensor_tables, static_cast<uint32_t>(idx)), schema::kTensorQuantization);
  FbVector scale = fb->vector(q, schema::kQuantScale, 4);
  *quantized_dimension = fb->scalar<int32_t>(q, schema::kQuantDimension, 0);
  const uint8_t* p = fb->base() + scale.pos;
  if (!fb->ok() || !scale.present() || reinterpret_cast<uintptr_t>(p) % 4 != 0) return nullptr;
  // Per-channel weight scales may be tiny, but must be finite, positive and not denormal.
  for (uint32_t k = 0; k < scale.length; ++k) {
    float v = fb->element<float>(scale, k);
    if (!(v >= 1e-30f && v <= 1e30f)) return nullptr;
  }
  *count = scale.length;
  return reinterpret_cast<const float*>(p);
}

void OpContext::resolve_io() {
  for (int i = 0; i < 3; ++i) io[i] = at(inputs, i);
  io[3] = at(outputs, 0);
}

void* OpContext::alloc(uint32_t bytes) {
  uintptr_t p = (reinterpret_cast<uintptr_t>(alloc_cur) + 7u) & ~static_cast<uintptr_t>(7u);
  uintptr_t end = reinterpret_cast<uintptr_t>(alloc_end);
  if (p > end || bytes > end - p) {
    alloc_failed = true;
    return nullptr;
  }
  alloc_cur = reinterpret_cast<uint8_t*>(p + bytes);
  memset(reinterpret_cast<void*>(p), 0, bytes);
  return reinterpret_cast<void*>(p);
}

bool read_options(const OpContext& ctx, const OptionField* fields, int n, int32_t* out) {
  const FbReader& fb = *ctx.fb;
  for (int i = 0; i < n; ++i) {
    const OptionField& f = fields[i];
    out[i] = f.is_int32 ? fb.scalar<int32_t>(ctx.options, f.id, f.def) : fb.scalar<int8_t>(ctx.options, f.id, f.def);
  }
  return fb.ok();
}

namespace ops {

k::Shape4 shape4(const TensorView& t) {
  k::Shape4 s{1, 1, 1, 1};
  k::shape4_from_dims(t.dims, t.rank, &s);
  return s;
}

WeightedView weighted_view(OpContext& ctx, const k::ConvParams& p) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  WeightedView v{shape4(*in), shape4(*ctx.output(0)), nullptr, nullptr};
  if (filter->rank == 2) {
    const int32_t accum = filter->dims[1];
    v.in = k::Shape4{1, 1, static_cast<int32_t>(in->elements() / static_cast<size_t>(accum)), accum};
    v.out = k::Shape4{1, 1, v.in.w, filter->dims[0]};
  }
  if (p.per_channel) {  // WeightQuant's layout: [params][multipliers[C]][shifts[C]], each block 8-byte aligned
    const uint32_t multipliers = align8(sizeof(k::ConvParams));
    v.multipliers = ctx.data_at<const int32_t>(multipliers);
    v.shifts = ctx.data_at<const int8_t>(multipliers + align8(4u * static_cast<uint32_t>(v.out.c)));
  }
  return v;
}

bool weighted_io(const OpContext& ctx, int32_t filter_rank) {
  const TensorView* filter = ctx.input(1);
  if (ctx.input_count() < 2 || ctx.input_count() > 3 || ctx.output_count() != 1) return false;
  return is_int8(ctx.input(0)) && is_int8(filter) && is_int8(ctx.output(0)) && filter->is_constant &&
         filter->rank == filter_rank;
}

Status broadcast_io(const OpContext& ctx, TensorType type) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !a || !b || !out || a->type != type || b->type != type ||
      out->type != type || a->rank > 4 || b->rank > 4 || out->rank > 4) {
    return Status::kBadOpParams;
  }
  return from(k::check_broadcast(shape4(*a), shape4(*b), shape4(*out)));
}

bool bias_ok(const OpContext& ctx, int32_t channels) {
  const TensorView* bias = ctx.input(2);
  return !bias || (bias->type == TensorType::kInt32 && bias->elements() == static_cast<size_t>(channels));
}

Status weight_quant(OpContext& ctx, int32_t channels, int32_t qdim, uint32_t params_bytes, WeightQuant* w) {
  int32_t dim;
  w->scales = ctx.scales(1, &w->count, &dim);
  w->multipliers = nullptr;
  w->shifts = nullptr;
  if (!w->scales || (w->count != 1 && w->count != static_cast<uint32_t>(channels))) return Status::kBadQuantization;
  const bool per_channel = w->count > 1;
  if (per_channel && qdim >= 0 && dim != qdim) return Status::kBadQuantization;
  w->params = ctx.alloc(params_bytes);
  if (per_channel) {
    w->multipliers = static_cast<int32_t*>(ctx.alloc(4u * channels));
    w->shifts = static_cast<int8_t*>(ctx.alloc(static_cast<uint32_t>(channels)));
  }
  if (!w->params || (per_channel && (!w->multipliers || !w->shifts))) return Status::kArenaTooSmall;
  return Status::kOk;
}

}  // namespace ops

bool same_shape(const TensorView& a, const TensorView& b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; ++i) {
    if (a.dims[i] != b.dims[i]) return false;
  }
  return true;
}

bool read_index(const TensorView& t, uint32_t i, int64_t* out) {
  if (!t.data.raw || i >= t.elements()) return false;
  if (t.type == TensorType::kInt32) {
    int32_t v;
    memcpy(&v, static_cast<const uint8_t*>(t.data.raw) + 4 * i, 4);
    *out = v;
    return true;
  }
  if (t.type == TensorType::kInt64) {
    memcpy(out, static_cast<const uint8_t*>(t.data.raw) + 8 * static_cast<size_t>(i), 8);
    return true;
  }
  return false;
}

Status from_kernel(int32_t kernel_status) {
  switch (static_cast<kernels::Status>(kernel_status)) {
    case kernels::Status::kOk: return Status::kOk;
    case kernels::Status::kBadQuantization:
    case kernels::Status::kUnsupportedQuantization: return Status::kBadQuantization;
    default: return Status::kBadOpParams;
  }
}

}  // namespace qbuild
