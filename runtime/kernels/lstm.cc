#include "lstm.h"

#include <string.h>

namespace qbuild {
namespace kernels {
namespace {

// sigmoid(i / 24) in unsigned 0.16 fixed point: the values of TFLite's sigmoid_table_uint16, which its int16
// LOGISTIC and TANH interpolate (tanh(x) = 2 * sigmoid(2x) - 1).
const uint16_t kSigmoidTable[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

constexpr float kQ12 = 1.0f / 4096.0f;   // gate input scale (Q3.12)
constexpr float kQ15 = 1.0f / 32768.0f;  // gate output scale (Q0.15)

inline int16_t sat16(int32_t v) { return static_cast<int16_t>(clamp_i32(v, -32768, 32767)); }

// The exponent p of a power-of-two scale (scale == 2^p); false for anything else.
bool power_of_two(float scale, int32_t* p) {
  uint32_t bits = 0;
  memcpy(&bits, &scale, sizeof(bits));
  const int32_t biased = static_cast<int32_t>((bits >> 23) & 0xff);
  if ((bits & 0x807fffffu) != 0 || biased == 0 || biased == 255) return false;
  *p = biased - 127;
  return true;
}

// One gate's two FCs (int8 -> int16 at scale 2^-12, each clamped), added with saturation.
void gate_fc(const LstmParams& p, int32_t g, const LstmWeights& w, const int8_t* input, const int8_t* hidden,
             int32_t rows, int16_t* out) {
  const int32_t in_n = p.input_size;
  const int32_t st_n = p.state_size;
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* x = input + r * in_n;
    const int8_t* h = hidden + r * st_n;
    for (int32_t s = 0; s < st_n; ++s) {
      const int8_t* wi = w.input[g] + s * in_n;
      int32_t acc = 0;
      for (int32_t k = 0; k < in_n; ++k) acc += (x[k] + p.input_offset) * wi[k];
      if (w.bias[g]) acc = add_wrap(acc, w.bias[g][s]);
      const int16_t a = sat16(multiply_by_quantized_multiplier(acc, p.input_multiplier[g], p.input_shift[g]));
      const int8_t* wr = w.recurrent[g] + s * st_n;
      acc = 0;
      for (int32_t k = 0; k < st_n; ++k) acc += (h[k] + p.hidden_offset) * wr[k];
      const int16_t b = sat16(multiply_by_quantized_multiplier(acc, p.recurrent_multiplier[g], p.recurrent_shift[g]));
      out[r * st_n + s] = sat16(a + b);
    }
  }
}

}  // namespace

void sigmoid_int16(int32_t size, const int16_t* in, int16_t* out) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t x = in[i] * 3;  // 3/4 of the table's 1/24 steps: [-8, 8) spans the table
    const uint32_t ax = static_cast<uint32_t>(x < 0 ? -x : x);
    const uint32_t uh = ax >> 9;
    uint32_t r;
    if (uh >= 255) {
      r = 0x7FFFu << 10;
    } else {
      const uint32_t ua = kSigmoidTable[uh];
      const uint32_t ub = kSigmoidTable[uh + 1];
      r = (ua << 9) + (ax & 0x1ffu) * (ub - ua);
    }
    r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    out[i] = static_cast<int16_t>(r >> 10);
  }
}

void tanh_int16(int32_t multiplier, int32_t left_shift, int32_t size, const int16_t* in, int16_t* out) {
  const int32_t round = left_shift > 0 ? 1 << (left_shift - 1) : 0;
  for (int32_t i = 0; i < size; ++i) {
    const int32_t x = (in[i] * multiplier + round) >> left_shift;
    const uint32_t ax = static_cast<uint32_t>(x < 0 ? -x : x);
    const uint32_t uh = ax >> 8;
    int32_t r;
    if (uh >= 255) {
      r = 0xFFFF << 8;
    } else {
      const uint32_t ua = kSigmoidTable[uh];
      const uint32_t ub = kSigmoidTable[uh + 1];
      r = static_cast<int32_t>((ua << 8) + (ax & 0xffu) * (ub - ua));
    }
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = static_cast<int16_t>(r >> 8);
  }
}

Status prepare_lstm(int32_t batches, int32_t time_steps, int32_t input_size, int32_t state_size, bool time_major,
                    int32_t activation, float cell_clip, const LstmQuant& q, LstmParams* params) {
  if (batches < 1 || time_steps < 1 || input_size < 1 || state_size < 1 || batches > (1 << 16) ||
      time_steps > (1 << 16) || input_size > (1 << 16) || state_size > (1 << 14)) {
    return Status::kBadShape;
  }
  if (activation != static_cast<int32_t>(Activation::kTanh)) return Status::kUnsupportedActivation;
  if (!valid_quant(q.input) || !valid_quant(q.hidden) || !(cell_clip >= 0.0f && cell_clip <= 3.4e38f)) {
    return Status::kBadQuantization;
  }
  int32_t power = 0;
  if (!power_of_two(q.cell_scale, &power)) return Status::kUnsupportedQuantization;
  LstmParams r{};
  r.batches = batches;
  r.time_steps = time_steps;
  r.input_size = input_size;
  r.state_size = state_size;
  r.time_major = time_major ? 1 : 0;
  r.input_offset = -q.input.zero_point;
  r.hidden_offset = -q.hidden.zero_point;
  r.hidden_zero_point = q.hidden.zero_point;
  for (int32_t g = 0; g < kLstmGates; ++g) {
    const float wi = q.input_weight_scales[g];
    const float wr = q.recurrent_weight_scales[g];
    if (!(wi > 0.0f && wi <= 3.4e38f) || !(wr > 0.0f && wr <= 3.4e38f)) return Status::kBadQuantization;
    // TFLM builds each gate's FCs with an int16 output at 2^-12 (double(in) * double(w) / double(out)).
    quantize_scale_ratio(q.input.scale, wi, kQ12, 0, &r.input_multiplier[g], &r.input_shift[g]);
    quantize_scale_ratio(q.hidden.scale, wr, kQ12, 0, &r.recurrent_multiplier[g], &r.recurrent_shift[g]);
    if (r.input_shift[g] > 30 || r.recurrent_shift[g] > 30) return Status::kBadQuantization;
  }
  quantize_scale_ratio(kQ15, q.cell_scale, q.cell_scale, 0, &r.forget_multiplier, &r.forget_shift);
  quantize_scale_ratio(kQ15, kQ15, q.cell_scale, 0, &r.input_mul_multiplier, &r.input_mul_shift);
  quantize_scale_ratio(kQ15, kQ15, q.hidden.scale, 0, &r.hidden_multiplier, &r.hidden_shift);
  if (r.input_mul_shift > 30 || r.hidden_shift > 30) return Status::kBadQuantization;
  // TFLM's Tanh(cell_state_scale_power): the cell state in Q(15 + power) scaled to the table's Q3.12 times 3.
  int32_t shift = 15 + power - 3;
  if (shift < -20 || shift > 12) return Status::kUnsupportedQuantization;
  if (shift < 0) {
    r.tanh_multiplier = 3;
    r.tanh_shift = -shift;
  } else {
    r.tanh_multiplier = 3 << shift;
    r.tanh_shift = 0;
  }
  // TFLM: int16(min(max(clip / scale, -32768), 32767)), truncated; a power-of-two scale keeps the quotient exact.
  r.cell_clip = -1;
  if (cell_clip > 0.0f) {
    const float v = cell_clip / q.cell_scale;
    r.cell_clip = v >= 32767.0f ? 32767 : static_cast<int32_t>(v);
  }
  r.cell_gate_tanh = 1;
  *params = r;
  return Status::kOk;
}

void eval_lstm(const LstmParams& p, const LstmWeights& w, const int8_t* input, int8_t* hidden, int16_t* cell,
               int8_t* output, int16_t* scratch) {
  const int32_t rows = p.time_major ? p.batches : 1;
  const int32_t n = rows * p.state_size;
  int16_t* forget = scratch;
  int16_t* in_gate = scratch + n;
  int16_t* cell_gate = scratch + 2 * n;
  const int32_t sequences = p.time_major ? 1 : p.batches;
  for (int32_t b = 0; b < sequences; ++b) {
    int8_t* h = hidden + b * n;
    int16_t* c = cell + b * n;
    for (int32_t t = 0; t < p.time_steps; ++t) {
      const int32_t step = b * p.time_steps + t;  // batch-major: one row per step; time-major: `rows` rows
      const int8_t* x = input + step * rows * p.input_size;
      gate_fc(p, 1, w, x, h, rows, forget);
      sigmoid_int16(n, forget, forget);
      gate_fc(p, 0, w, x, h, rows, in_gate);
      sigmoid_int16(n, in_gate, in_gate);
      gate_fc(p, 2, w, x, h, rows, cell_gate);
      tanh_int16(3, 0, n, cell_gate, cell_gate);
      for (int32_t i = 0; i < n; ++i) {
        const int16_t kept = sat16(multiply_by_quantized_multiplier(forget[i] * c[i], p.forget_multiplier,
                                                                    p.forget_shift));
        const int16_t added = sat16(multiply_by_quantized_multiplier(in_gate[i] * cell_gate[i],
                                                                     p.input_mul_multiplier, p.input_mul_shift));
        int32_t v = sat16(kept + added);
        if (p.cell_clip >= 0) v = clamp_i32(v, -p.cell_clip, p.cell_clip);
        c[i] = static_cast<int16_t>(v);
      }
      int16_t* out_gate = in_gate;  // TFLM reuses the buffers in this order
      gate_fc(p, 3, w, x, h, rows, out_gate);
      sigmoid_int16(n, out_gate, out_gate);
      tanh_int16(p.tanh_multiplier, p.tanh_shift, n, c, forget);
      for (int32_t i = 0; i < n; ++i) {
        const int32_t v = multiply_by_quantized_multiplier(forget[i] * out_gate[i], p.hidden_multiplier,
                                                           p.hidden_shift) + p.hidden_zero_point;
        h[i] = static_cast<int8_t>(clamp_i32(v, -128, 127));
      }
      memcpy(output + step * n, h, static_cast<size_t>(n));
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
