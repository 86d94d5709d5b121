#include "fully_connected.h"

namespace qbuild {
namespace kernels {

Status prepare_fully_connected(Activation act, QuantInfo input_q, const float* filter_scales,
                               int32_t num_filter_scales, int32_t filter_zero_point, QuantInfo output_q,
                               int32_t output_depth, int32_t* multipliers, int32_t* shifts,
                               FullyConnectedParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (output_depth < 1) return Status::kBadShape;
  if (filter_scales == nullptr || (num_filter_scales != 1 && num_filter_scales != output_depth)) {
    return Status::kBadQuantization;
  }
  if (filter_zero_point < -128 || filter_zero_point > 127) return Status::kBadQuantization;
  const bool per_channel = num_filter_scales > 1;
  if (per_channel && (multipliers == nullptr || shifts == nullptr)) return Status::kBadQuantization;

  FullyConnectedParams r{};
  r.input_offset = -input_q.zero_point;
  r.filter_offset = -filter_zero_point;
  r.output_offset = output_q.zero_point;
  r.per_channel = per_channel ? 1 : 0;
  const Status s = activation_range(act, output_q, &r.act_min, &r.act_max);
  if (s != Status::kOk) return s;
  // Double product for per-tensor and per-channel alike (a float in*filter product differs; measured with
  // biases chosen where the two disagree: test_fc_per_tensor_multiplier_is_a_double_product).
  const Status ms = filter_multipliers(input_q.scale, filter_scales, num_filter_scales, output_q.scale, multipliers,
                                       shifts, &r.output_multiplier, &r.output_shift);
  if (ms != Status::kOk) return ms;
  *params = r;
  return Status::kOk;
}

namespace {

inline int8_t requantize(const FullyConnectedParams& p, const int32_t* multipliers, const int32_t* shifts,
                         int32_t oc, int32_t acc) {
  const int32_t m = p.per_channel ? multipliers[oc] : p.output_multiplier;
  const int32_t s = p.per_channel ? shifts[oc] : p.output_shift;
  return static_cast<int8_t>(
      clamp_i32(multiply_by_quantized_multiplier(acc, m, s) + p.output_offset, p.act_min, p.act_max));
}

}  // namespace

void eval_fully_connected(const FullyConnectedParams& p, const int32_t* multipliers, const int32_t* shifts,
                          int32_t batches, int32_t accum_depth, int32_t output_depth, const int8_t* input_data,
                          const int8_t* filter_data, const int32_t* bias, int8_t* output_data) {
  const int32_t input_offset = p.input_offset;
  const int32_t filter_offset = p.filter_offset;
  const int32_t blocked_end = QBUILD_KERNELS_UNROLL ? output_depth - output_depth % 4 : 0;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t* in = input_data + b * accum_depth;
    int8_t* out = output_data + b * output_depth;
    int32_t oc = 0;
    // Four weight rows per pass share each input load and its offset add.
    for (; oc < blocked_end; oc += 4) {
      const int8_t* f0 = filter_data + oc * accum_depth;
      const int8_t* f1 = f0 + accum_depth;
      const int8_t* f2 = f1 + accum_depth;
      const int8_t* f3 = f2 + accum_depth;
      int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (int32_t d = 0; d < accum_depth; ++d) {
        const int32_t x = static_cast<int32_t>(in[d]) + input_offset;
        a0 += (static_cast<int32_t>(f0[d]) + filter_offset) * x;
        a1 += (static_cast<int32_t>(f1[d]) + filter_offset) * x;
        a2 += (static_cast<int32_t>(f2[d]) + filter_offset) * x;
        a3 += (static_cast<int32_t>(f3[d]) + filter_offset) * x;
      }
      if (bias != nullptr) {
        a0 = add_wrap(a0, bias[oc]);
        a1 = add_wrap(a1, bias[oc + 1]);
        a2 = add_wrap(a2, bias[oc + 2]);
        a3 = add_wrap(a3, bias[oc + 3]);
      }
      out[oc] = requantize(p, multipliers, shifts, oc, a0);
      out[oc + 1] = requantize(p, multipliers, shifts, oc + 1, a1);
      out[oc + 2] = requantize(p, multipliers, shifts, oc + 2, a2);
      out[oc + 3] = requantize(p, multipliers, shifts, oc + 3, a3);
    }
    for (; oc < output_depth; ++oc) {
      const int8_t* f = filter_data + oc * accum_depth;
      int32_t acc = 0;
      for (int32_t d = 0; d < accum_depth; ++d) {
        acc += (static_cast<int32_t>(f[d]) + filter_offset) * (static_cast<int32_t>(in[d]) + input_offset);
      }
      if (bias != nullptr) acc = add_wrap(acc, bias[oc]);
      out[oc] = requantize(p, multipliers, shifts, oc, acc);
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
