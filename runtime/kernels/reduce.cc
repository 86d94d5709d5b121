#include "reduce.h"

namespace qbuild {
namespace kernels {

namespace {

// The Shape4 axes an axis list reduces (bit i: axis i of {n, h, w, c}), or a failure status.
Status axis_mask(const Shape4& input, int32_t input_rank, const int32_t* axes, int32_t num_axes, int32_t* out) {
  if (input_rank < 0 || input_rank > 4 || num_axes < 0 || (num_axes > 0 && axes == nullptr)) {
    return Status::kUnsupportedOptions;
  }
  int32_t mask = 0;
  for (int32_t i = 0; i < num_axes; ++i) {
    int32_t a = axes[i];
    if (a < 0) a += input_rank;
    if (a < 0 || a >= input_rank) return Status::kUnsupportedOptions;
    mask |= 1 << (a + 4 - input_rank);  // Shape4 is right-aligned
  }
  if (!sane_shape(input)) return Status::kBadShape;
  *out = mask;
  return Status::kOk;
}

// Calls fn(out_index_base, inner extents, strides) per output value: the loop nest both reductions share.
template <typename Fn>
void for_each_output(int32_t mask, const Shape4& input, Fn fn) {
  const int32_t dims[4] = {input.n, input.h, input.w, input.c};
  int32_t outer[4];
  int32_t inner[4];
  for (int32_t i = 0; i < 4; ++i) {
    const bool reduced = (mask & (1 << i)) != 0;
    outer[i] = reduced ? 1 : dims[i];
    inner[i] = reduced ? dims[i] : 1;
  }
  const int32_t stride[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  for (int32_t a = 0; a < outer[0]; ++a)
    for (int32_t b = 0; b < outer[1]; ++b)
      for (int32_t c = 0; c < outer[2]; ++c)
        for (int32_t d = 0; d < outer[3]; ++d) fn(a * stride[0] + b * stride[1] + c * stride[2] + d, inner, stride);
}

}  // namespace

Status prepare_reduce_max(const Shape4& input, int32_t input_rank, const int32_t* axes, int32_t num_axes,
                          QuantInfo input_q, QuantInfo output_q, ReduceMaxParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q) || input_q.scale != output_q.scale ||
      input_q.zero_point != output_q.zero_point) {
    return Status::kBadQuantization;
  }
  return axis_mask(input, input_rank, axes, num_axes, &params->axis_mask);
}

void eval_reduce_max(const ReduceMaxParams& p, const Shape4& input, const int8_t* input_data, int8_t* output_data) {
  for_each_output(p.axis_mask, input, [&](int32_t base, const int32_t* inner, const int32_t* stride) {
    int8_t best = -128;
    for (int32_t i = 0; i < inner[0]; ++i)
      for (int32_t j = 0; j < inner[1]; ++j)
        for (int32_t k = 0; k < inner[2]; ++k) {
          const int8_t* row = input_data + base + i * stride[0] + j * stride[1] + k * stride[2];
          for (int32_t l = 0; l < inner[3]; ++l) best = row[l] > best ? row[l] : best;
        }
    *output_data++ = best;
  });
}

Status prepare_mean(const Shape4& input, int32_t input_rank, const int32_t* axes, int32_t num_axes,
                    QuantInfo input_q, QuantInfo output_q, MeanParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  int32_t mask = 0;
  const Status ms = axis_mask(input, input_rank, axes, num_axes, &mask);
  if (ms != Status::kOk) return ms;
  // sane_shape: every dim >= 1 and their product <= INT32_MAX, so the reduced count fits an int32.
  const int32_t dims[4] = {input.n, input.h, input.w, input.c};
  int32_t count = 1;
  for (int32_t i = 0; i < 4; ++i) {
    if (mask & (1 << i)) count *= dims[i];
  }

  MeanParams r{};
  r.axis_mask = mask;
  r.num_elements = count;
  r.input_zero_point = input_q.zero_point;
  r.output_zero_point = output_q.zero_point;
  // TFLite's QuantizedMeanOrSum: quantize in_scale/out_scale, then fold 1/count into the multiplier
  // with as many extra bits as fit (at most 32, keeping shift >= -31).
  int32_t m = 0;
  int32_t s = 0;
  quantize_scale_ratio(input_q.scale, 1.0f, output_q.scale, 0, &m, &s);
  if (s > 30) return Status::kBadQuantization;
  int32_t extra = 31 - __builtin_clz(static_cast<uint32_t>(count));  // floor(log2(count)) <= 30 (< 32, TFLite's cap)
  if (extra > 31 + s) extra = 31 + s;
  // m in [0, 2^31) and count >= 2^extra, so the quotient is at most m.
  uint32_t unused = 0;
  r.multiplier = static_cast<int32_t>(
      divide_u64(static_cast<uint64_t>(m) << extra, static_cast<uint32_t>(count), &unused));
  r.shift = s - extra;
  *params = r;
  return Status::kOk;
}

void eval_mean(const MeanParams& p, const Shape4& input, const int8_t* input_data, int8_t* output_data) {
  const int32_t dims[4] = {input.n, input.h, input.w, input.c};
  int32_t outer[4];
  int32_t inner[4];
  for (int32_t i = 0; i < 4; ++i) {
    const bool reduced = (p.axis_mask & (1 << i)) != 0;
    outer[i] = reduced ? 1 : dims[i];
    inner[i] = reduced ? dims[i] : 1;
  }
  const int32_t stride[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  const int32_t count = p.num_elements;
  const int32_t zp_total = p.input_zero_point * count;
  int8_t* out = output_data;
  for (int32_t a = 0; a < outer[0]; ++a)
    for (int32_t b = 0; b < outer[1]; ++b)
      for (int32_t c = 0; c < outer[2]; ++c)
        for (int32_t d = 0; d < outer[3]; ++d) {
          const int8_t* base = input_data + a * stride[0] + b * stride[1] + c * stride[2] + d;
          int32_t sum = 0;
          for (int32_t i = 0; i < inner[0]; ++i)
            for (int32_t j = 0; j < inner[1]; ++j)
              for (int32_t k = 0; k < inner[2]; ++k) {
                const int8_t* row = base + i * stride[0] + j * stride[1] + k * stride[2];
                for (int32_t l = 0; l < inner[3]; ++l) sum += row[l];
              }
          // TFLM takes this path even when input and output quantization are equal (measured).
          const int32_t v =
              multiply_by_quantized_multiplier(sum - zp_total, p.multiplier, p.shift) + p.output_zero_point;
          *out++ = static_cast<int8_t>(clamp_i32(v, -128, 127));
        }
}

}  // namespace kernels
}  // namespace qbuild
