#include "int16.h"

#include <math.h>

#include "softmax16_lut.h"

namespace qbuild {
namespace kernels {

Status activation_range16(Activation act, QuantInfo output, int32_t* act_min, int32_t* act_max) {
  return activation_range_of(act, output, -32768, 32767, act_min, act_max);
}

Status to_int16(Activation act, QuantInfo input_q, QuantInfo output_q, const int8_t* shifts, int32_t channels,
                ConvParams* p) {
  if (input_q.zero_point != 0 || output_q.zero_point != 0) return Status::kUnsupportedQuantization;
  const Status s = activation_range16(act, output_q, &p->act_min, &p->act_max);
  if (s != Status::kOk) return s;
  if (p->per_channel) {
    for (int32_t i = 0; i < channels; ++i) {
      if (shifts[i] > 14) return Status::kBadQuantization;
    }
  } else if (p->output_shift > 14) {
    return Status::kBadQuantization;
  }
  return Status::kOk;
}

namespace {

// First and one-past-last tap of a window whose input row/column lies inside [0, size) (as conv.cc).
inline void taps(int32_t origin, int32_t dilation, int32_t filter_size, int32_t size, int32_t* start, int32_t* end) {
  int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  int32_t e = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  if (e > filter_size) e = filter_size;
  if (s > e) s = e;
  *start = s;
  *end = e;
}

}  // namespace

void eval_conv16(const ConvParams& p, const int32_t* multipliers, const int8_t* shifts, const Shape4& input,
                 const int16_t* input_data, const int8_t* filter_data, const int32_t* bias32, const int64_t* bias64,
                 Accumulator accumulator, const Shape4& output, int16_t* output_data) {
  static const int8_t kOne = 1;
  const int32_t in_c = input.c;
  const int32_t out_c = output.c;
  const int32_t depth = p.depth;
  int32_t per_group = 1;
  int32_t oc_stride = 0;
  int32_t tap_stride = 0;
  if (p.kind == WindowKind::kConv) {
    per_group = out_c / (in_c / depth);
    tap_stride = depth;
    oc_stride = p.filter_h * p.filter_w * depth;
  } else if (p.kind == WindowKind::kDepthwise) {
    per_group = out_c / in_c;
    oc_stride = 1;
    tap_stride = out_c;
  } else {
    filter_data = &kOne;
  }
  const bool wide = accumulator == Accumulator::kInt64;
  const int32_t filter_offset = p.filter_offset;
  int16_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    const int16_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy0, fy1;
      taps(iy0, p.dilation_h, p.filter_h, input.h, &fy0, &fy1);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx0, fx1;
        taps(ix0, p.dilation_w, p.filter_w, input.w, &fx0, &fx1);
        const int16_t* in_group = in_batch;
        int32_t group_left = per_group;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const int8_t* f_oc = filter_data + oc * oc_stride;
          // Each product fits int32 (int8 x int16); the sum is kept in 64 bits and truncated for the int32 path,
          // which is the wrapping int32 sum.
          int64_t acc = 0;
          for (int32_t fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = iy0 + fy * p.dilation_h;
            for (int32_t fx = fx0; fx < fx1; ++fx) {
              const int16_t* in_px = in_group + (iy * input.w + ix0 + fx * p.dilation_w) * in_c;
              const int8_t* f_px = f_oc + (fy * p.filter_w + fx) * tap_stride;
              for (int32_t k = 0; k < depth; ++k) {
                acc += (static_cast<int32_t>(f_px[k]) + filter_offset) * static_cast<int32_t>(in_px[k]);
              }
            }
          }
          int32_t v;
          if (p.kind == WindowKind::kAveragePool) {
            const int32_t count = (fy1 - fy0) * (fx1 - fx0) > 0 ? (fy1 - fy0) * (fx1 - fx0) : 1;
            const int32_t sum = static_cast<int32_t>(acc);
            v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          } else {
            const int32_t m = p.per_channel ? multipliers[oc] : p.output_multiplier;
            const int32_t s = p.per_channel ? shifts[oc] : p.output_shift;
            if (wide) {
              if (bias64 != nullptr) acc = static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(bias64[oc]));
              v = multiply_by_quantized_multiplier64(acc, m, s);
            } else {
              int32_t a = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(acc)));
              if (bias32 != nullptr) a = add_wrap(a, bias32[oc]);
              v = multiply_by_quantized_multiplier(a, m, s);
            }
          }
          out[oc] = static_cast<int16_t>(clamp_i32(v, p.act_min, p.act_max));
          if (--group_left == 0) {
            group_left = per_group;
            in_group += depth;
          }
        }
        out += out_c;
      }
    }
  }
}

void eval_max_pool16(const ConvParams& p, const Shape4& input, const int16_t* input_data, const Shape4& output,
                     int16_t* output_data) {
  const int32_t depth = output.c;
  int16_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy0, fy1;
      taps(iy0, 1, p.filter_h, input.h, &fy0, &fy1);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx0, fx1;
        taps(ix0, 1, p.filter_w, input.w, &fx0, &fx1);
        for (int32_t c = 0; c < depth; ++c) {
          int32_t m = -32768;
          for (int32_t fy = fy0; fy < fy1; ++fy) {
            const int16_t* row = input_data + ((b * input.h + iy0 + fy) * input.w + ix0) * depth + c;
            for (int32_t fx = fx0; fx < fx1; ++fx) m = row[fx * depth] > m ? row[fx * depth] : m;
          }
          *out++ = static_cast<int16_t>(clamp_i32(m, p.act_min, p.act_max));
        }
      }
    }
  }
}

void eval_mean16(const MeanParams& p, const Shape4& input, const int16_t* input_data, int16_t* output_data) {
  const int32_t dims[4] = {input.n, input.h, input.w, input.c};
  int32_t outer[4];
  int32_t inner[4];
  for (int32_t i = 0; i < 4; ++i) {
    const bool reduced = (p.axis_mask & (1 << i)) != 0;
    outer[i] = reduced ? 1 : dims[i];
    inner[i] = reduced ? dims[i] : 1;
  }
  const int32_t stride[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  const int32_t zp_total = p.input_zero_point * p.num_elements;
  int16_t* out = output_data;
  for (int32_t a = 0; a < outer[0]; ++a)
    for (int32_t b = 0; b < outer[1]; ++b)
      for (int32_t c = 0; c < outer[2]; ++c)
        for (int32_t d = 0; d < outer[3]; ++d) {
          const int16_t* base = input_data + a * stride[0] + b * stride[1] + c * stride[2] + d;
          int32_t sum = 0;
          for (int32_t i = 0; i < inner[0]; ++i)
            for (int32_t j = 0; j < inner[1]; ++j)
              for (int32_t k = 0; k < inner[2]; ++k) {
                const int16_t* row = base + i * stride[0] + j * stride[1] + k * stride[2];
                for (int32_t l = 0; l < inner[3]; ++l) sum = add_wrap(sum, row[l]);
              }
          const int32_t v =
              multiply_by_quantized_multiplier(sum - zp_total, p.multiplier, p.shift) + p.output_zero_point;
          *out++ = static_cast<int16_t>(clamp_i32(v, -32768, 32767));
        }
}

namespace {

// double(x) * double(y) / d for a double d = d_mantissa * 2^d_exponent (mantissa in [2^52, 2^53)), rounded to
// nearest even at 53 bits like the IEEE operations: binary long division, no 128-bit or double arithmetic.
Double53 ratio_by_double(float x, float y, uint64_t d_mantissa, int32_t d_exponent) {
  const Double53 xy = ratio_as_double(x, y, 1.0f);  // exact: a 48-bit product
  // Quotient of xy.mantissa * 2^60 by d_mantissa: 60..61 bits; the remainder stays below 2^53.
  uint64_t q = 0;
  uint64_t r = 0;
  for (int32_t bit = 52 + 60; bit >= 0; --bit) {
    const uint64_t next = bit >= 60 ? (xy.mantissa >> (bit - 60)) & 1u : 0u;
    r = (r << 1) | next;
    q <<= 1;
    if (r >= d_mantissa) {
      r -= d_mantissa;
      q |= 1u;
    }
  }
  int32_t drop = 0;
  while ((q >> drop) >= (uint64_t{1} << 53)) ++drop;
  uint64_t keep = q >> drop;
  const uint64_t rem = q & ((uint64_t{1} << drop) - 1);
  const uint64_t half = drop > 0 ? uint64_t{1} << (drop - 1) : 0;
  const bool sticky = r != 0;
  if (drop > 0 && (rem > half || (rem == half && (sticky || (keep & 1u) != 0)))) ++keep;
  if (keep == (uint64_t{1} << 53)) {
    keep >>= 1;
    ++drop;
  }
  return Double53{keep, xy.exponent - 60 - d_exponent + drop};
}

// 10.0 / 65535.0 as a double: 5629585434869780 * 2^-65.
constexpr uint64_t kTenOver65535Mantissa = 5629585434869780ull;
constexpr int32_t kTenOver65535Exponent = -65;

// TFLite's lut_lookup_with_interpolation for int16 input (512 segments, 513 entries).
inline int32_t lut_lookup(int32_t value, const int16_t* lut) {
  const int32_t index = 256 + (value >> 7);
  const int32_t offset = value & 0x7f;
  const int32_t base = lut[index];
  const int32_t slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
  return static_cast<int16_t>(base + ((slope * offset + 64) >> 7));
}

}  // namespace

Status prepare_softmax16(float beta, QuantInfo input_q, QuantInfo output_q, Softmax16Params* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q) || !(beta > 0.0f && beta <= 3.4e38f)) {
    return Status::kBadQuantization;
  }
  // TFLM: zero points 0, output scale within 0.1 % of 1/32768.
  const float target = 1.0f / 32768.0f;
  const float diff = output_q.scale > target ? output_q.scale - target : target - output_q.scale;
  if (input_q.zero_point != 0 || output_q.zero_point != 0 || diff > 0.001f * target) {
    return Status::kUnsupportedQuantization;
  }
  Softmax16Params r{};
  quantize_double53(ratio_by_double(input_q.scale, beta, kTenOver65535Mantissa, kTenOver65535Exponent), 0,
                    &r.input_multiplier, &r.input_left_shift);
  if (r.input_left_shift > 30 || r.input_left_shift < -31) return Status::kBadQuantization;
  *params = r;
  return Status::kOk;
}

void eval_softmax16(const Softmax16Params& p, int32_t outer_size, int32_t depth, const int16_t* input_data,
                    int16_t* output_data) {
  for (int32_t i = 0; i < outer_size; ++i) {
    const int16_t* in = input_data + i * depth;
    int16_t* out = output_data + i * depth;
    int32_t max_in_row = -32768;
    for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    // exp(x - max) in Q0.15, kept in the output (as TFLM does), and their sum.
    int32_t sum = 0;
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t scaled = multiply_by_quantized_multiplier(static_cast<int32_t>(in[c]) - max_in_row,
                                                              p.input_multiplier, p.input_left_shift);
      out[c] = static_cast<int16_t>(lut_lookup(clamp_i32(scaled + 32767, -32768, 32767), kSoftmax16ExpLut));
      sum = add_wrap(sum, out[c]);
    }
    // The row maximum contributes exp(0) ~ 32767, so sum > 0 (a row of depth 0 never reaches here).
    const uint32_t headroom_plus_one = sum != 0 ? static_cast<uint32_t>(__builtin_clz(static_cast<uint32_t>(sum))) : 32u;
    const int32_t shifted_sum = static_cast<int32_t>(
        ((static_cast<int64_t>(sum) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const int32_t x = clamp_i32(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767);
    const int64_t reciprocal = lut_lookup(x, kSoftmax16OneOverOnePlusXLut);
    const int32_t right_shift = 31 - static_cast<int32_t>(headroom_plus_one);
    const int64_t round = int64_t{1} << (right_shift - 1);
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t v = static_cast<int32_t>((static_cast<int64_t>(out[c]) * reciprocal + round) >> right_shift);
      out[c] = static_cast<int16_t>(clamp_i32(v, 0, 32767));
    }
  }
}

void eval_quantize16(const QuantizeParams& p, int32_t size, const float* input_data, int16_t* output_data) {
  const float scale = p.scale;
  for (int32_t i = 0; i < size; ++i) {
    const float q = roundf(input_data[i] / scale);
    int32_t v = 0;  // NaN -> zero point
    if (q >= 100000.0f) {
      v = 100000;
    } else if (q <= -100000.0f) {
      v = -100000;
    } else if (q == q) {
      v = static_cast<int32_t>(q);
    }
    output_data[i] = static_cast<int16_t>(clamp_i32(v + p.zero_point, -32768, 32767));
  }
}

void eval_dequantize16(const DequantizeParams& p, int32_t size, const int16_t* input_data, float* output_data) {
  // TFLM multiplies in double; |q - zp| < 2^17 and a 24-bit scale make that product exact, so one float multiply
  // rounds the same way.
  for (int32_t i = 0; i < size; ++i) {
    output_data[i] = p.scale * static_cast<float>(static_cast<int32_t>(input_data[i]) - p.zero_point);
  }
}

}  // namespace kernels
}  // namespace qbuild
