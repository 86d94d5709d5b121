#include "elementwise.h"

namespace qbuild {
namespace kernels {

namespace {

// TFLite's general quantized ADD/SUB prepare: both inputs rescaled to 2 * max(scale) after a left shift (20 for int8,
// 15 for int16), then to the output scale; the clamp in [qmin, qmax].
Status prepare_add_shifted(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q,
                           int32_t left_shift, int32_t qmin, int32_t qmax, AddParams* params) {
  if (!valid_quant(input1_q) || !valid_quant(input2_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  AddParams r{};
  r.input1_offset = -input1_q.zero_point;
  r.input2_offset = -input2_q.zero_point;
  r.output_offset = output_q.zero_point;
  r.left_shift = left_shift;
  // TFLite, in double: in_i / (2 * max_scale) and 2 * max_scale / (2^left_shift * out); the powers of two are exact.
  const float max_scale = input1_q.scale > input2_q.scale ? input1_q.scale : input2_q.scale;
  quantize_scale_ratio(input1_q.scale, 1.0f, max_scale, -1, &r.input1_multiplier, &r.input1_shift);
  quantize_scale_ratio(input2_q.scale, 1.0f, max_scale, -1, &r.input2_multiplier, &r.input2_shift);
  quantize_scale_ratio(max_scale, 1.0f, output_q.scale, 1 - r.left_shift, &r.output_multiplier, &r.output_shift);
  if (r.input1_shift > 0 || r.input2_shift > 0 || r.output_shift > 0) return Status::kBadQuantization;
  const Status s = activation_range_of(act, output_q, qmin, qmax, &r.act_min, &r.act_max);
  if (s != Status::kOk) return s;
  *params = r;
  return Status::kOk;
}

Status prepare_mul_clamped(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, int32_t qmin,
                           int32_t qmax, MulParams* params) {
  if (!valid_quant(input1_q) || !valid_quant(input2_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  MulParams r{};
  r.input1_offset = -input1_q.zero_point;
  r.input2_offset = -input2_q.zero_point;
  r.output_offset = output_q.zero_point;
  quantize_scale_ratio(input1_q.scale, input2_q.scale, output_q.scale, 0, &r.output_multiplier, &r.output_shift);
  if (r.output_shift > 30) return Status::kBadQuantization;
  const Status s = activation_range_of(act, output_q, qmin, qmax, &r.act_min, &r.act_max);
  if (s != Status::kOk) return s;
  *params = r;
  return Status::kOk;
}

}  // namespace

Status prepare_add(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, AddParams* params) {
  return prepare_add_shifted(act, input1_q, input2_q, output_q, 20, -128, 127, params);
}

Status prepare_mul(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, MulParams* params) {
  return prepare_mul_clamped(act, input1_q, input2_q, output_q, -128, 127, params);
}

Status prepare_add16(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, AddParams* params) {
  return prepare_add_shifted(act, input1_q, input2_q, output_q, 15, -32768, 32767, params);
}

Status prepare_mul16(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, MulParams* params) {
  return prepare_mul_clamped(act, input1_q, input2_q, output_q, -32768, 32767, params);
}

Status check_broadcast(const Shape4& in1, const Shape4& in2, const Shape4& out) {
  if (!sane_shape(in1) || !sane_shape(in2) || !sane_shape(out)) return Status::kBadShape;
  const int32_t a[4] = {in1.n, in1.h, in1.w, in1.c};
  const int32_t b[4] = {in2.n, in2.h, in2.w, in2.c};
  const int32_t o[4] = {out.n, out.h, out.w, out.c};
  for (int32_t i = 0; i < 4; ++i) {
    const int32_t want = a[i] > b[i] ? a[i] : b[i];
    if ((a[i] != want && a[i] != 1) || (b[i] != want && b[i] != 1) || o[i] != want) return Status::kBadShape;
  }
  return Status::kOk;
}

namespace {

inline int32_t add_one(const AddParams& p, int32_t x, int32_t y) {
  const int32_t a = (x + p.input1_offset) * (1 << p.left_shift);
  const int32_t b = (y + p.input2_offset) * (1 << p.left_shift);
  const int32_t sa = multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
  const int32_t sb = multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
  const int32_t r = multiply_by_quantized_multiplier(sa + sb, p.output_multiplier, p.output_shift) + p.output_offset;
  return clamp_i32(r, p.act_min, p.act_max);
}

inline int32_t sub_one(const AddParams& p, int32_t x, int32_t y) {
  const int32_t a = (x + p.input1_offset) * (1 << p.left_shift);
  const int32_t b = (y + p.input2_offset) * (1 << p.left_shift);
  const int32_t sa = multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
  const int32_t sb = multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
  const int32_t r = multiply_by_quantized_multiplier(sa - sb, p.output_multiplier, p.output_shift) + p.output_offset;
  return clamp_i32(r, p.act_min, p.act_max);
}

inline int32_t mul_one(const MulParams& p, int32_t x, int32_t y) {
  const int32_t prod = (x + p.input1_offset) * (y + p.input2_offset);
  const int32_t r = multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift) + p.output_offset;
  return clamp_i32(r, p.act_min, p.act_max);
}

inline bool same_shape(const Shape4& a, const Shape4& b) {
  return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

// Element strides of `s` inside the broadcast output: 0 along axes where s has size 1.
inline void broadcast_strides(const Shape4& s, int32_t st[4]) {
  st[3] = s.c == 1 ? 0 : 1;
  st[2] = s.w == 1 ? 0 : s.c;
  st[1] = s.h == 1 ? 0 : s.w * s.c;
  st[0] = s.n == 1 ? 0 : s.h * s.w * s.c;
}

// Op gives the clamped result of one element (within T's range: the params' clamp is T's or narrower).
template <typename T, typename Params, int32_t (*Op)(const Params&, int32_t, int32_t)>
void eval_binary(const Params& p, const Shape4& in1, const T* a, const Shape4& in2, const T* b, const Shape4& out,
                 T* o) {
  if (same_shape(in1, out) && same_shape(in2, out)) {
    const int32_t n = flat_size(out);
    for (int32_t i = 0; i < n; ++i) o[i] = static_cast<T>(Op(p, a[i], b[i]));
    return;
  }
  int32_t sa[4];
  int32_t sb[4];
  broadcast_strides(in1, sa);
  broadcast_strides(in2, sb);
  for (int32_t i0 = 0; i0 < out.n; ++i0)
    for (int32_t i1 = 0; i1 < out.h; ++i1)
      for (int32_t i2 = 0; i2 < out.w; ++i2) {
        const T* ra = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
        const T* rb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
        for (int32_t i3 = 0; i3 < out.c; ++i3) *o++ = static_cast<T>(Op(p, ra[i3 * sa[3]], rb[i3 * sb[3]]));
      }
}

}  // namespace

void eval_add(const AddParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data) {
  eval_binary<int8_t, AddParams, add_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

void eval_sub(const AddParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data) {
  eval_binary<int8_t, AddParams, sub_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

void eval_mul(const MulParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data) {
  eval_binary<int8_t, MulParams, mul_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

void eval_add16(const AddParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data) {
  eval_binary<int16_t, AddParams, add_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

void eval_sub16(const AddParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data) {
  eval_binary<int16_t, AddParams, sub_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

void eval_mul16(const MulParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data) {
  eval_binary<int16_t, MulParams, mul_one>(p, in1, in1_data, in2, in2_data, out, out_data);
}

}  // namespace kernels
}  // namespace qbuild
