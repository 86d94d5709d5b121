// libFuzzer harness (ASan + UBSan) for runtime/kernels: random options, shapes, scales and data. Whatever prepare
// accepts, eval must run without undefined behaviour or out-of-bounds access. Build and run: tests/test_kernels.py.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../runtime/kernels/kernels.h"

using namespace qbuild::kernels;

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  int32_t range(int32_t lo, int32_t hi) { return lo + static_cast<int32_t>(byte() % (hi - lo + 1)); }
  // Scales from 1e-38 to 1e38 plus edge values; zero points over and beyond int8.
  float scale() {
    switch (byte() % 8) {
      case 0: return 0.0f;
      case 1: return 1.0f / 256.0f;
      case 2: return 1.0f / 128.0f;
      case 3: return -0.5f;
      default: return powf(10.0f, static_cast<float>(3 * static_cast<int32_t>(byte()) - 382) / 10.0f) *
                      (1.0f + byte() / 256.0f);
    }
  }
  int32_t zero_point() { return byte() % 16 == 0 ? range(-300, 300) : static_cast<int8_t>(byte()); }
  QuantInfo quant() { return QuantInfo{scale(), zero_point()}; }
  void fill(int8_t* p, int32_t n) {
    for (int32_t i = 0; i < n; ++i) p[i] = static_cast<int8_t>(byte());
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Evals reached per op family, printed at exit so a test can check that prepare let real work through.
const char* const kNames[] = {"conv", "depthwise", "fc", "pool", "mean", "add_mul", "unary", "softmax", "quantize"};
uint64_t g_evals[9];
void print_evals() {
  fprintf(stderr, "evals");
  for (int i = 0; i < 9; ++i) fprintf(stderr, " %s=%llu", kNames[i], static_cast<unsigned long long>(g_evals[i]));
  fprintf(stderr, "\n");
}

constexpr int32_t kMax = 4096;
int8_t g_in[kMax], g_in2[kMax], g_filter[kMax], g_out[kMax];
int32_t g_bias[64], g_mult[64];
int8_t g_shift[64];
float g_fin[kMax], g_fout[kMax], g_scales[64];

Shape4 shape(Reader& r, int32_t max_dim) {
  return Shape4{r.range(1, 2), r.range(1, max_dim), r.range(1, max_dim), r.range(1, max_dim)};
}

bool fits(const Shape4& s) { return s.n > 0 && s.h > 0 && s.w > 0 && s.c > 0 && flat_size(s) <= kMax; }

void fuzz_conv(Reader& r, bool depthwise) {
  ConvOptions o{static_cast<Padding>(r.range(0, 2)), r.range(1, 3), r.range(1, 3), r.range(1, 3), r.range(1, 3),
                static_cast<Activation>(r.range(0, 4)), r.range(0, 3)};
  const Shape4 in = shape(r, 8);
  const int32_t kh = r.range(1, 4), kw = r.range(1, 4);
  const int32_t out_c = depthwise ? in.c * r.range(1, 3) : r.range(1, 12);
  const Shape4 filter = depthwise ? Shape4{1, kh, kw, out_c} : Shape4{out_c, kh, kw, in.c / r.range(1, 2)};
  const int32_t oh = conv_output_size(o.padding, in.h, kh, o.stride_h, o.dilation_h);
  const int32_t ow = conv_output_size(o.padding, in.w, kw, o.stride_w, o.dilation_w);
  const Shape4 out{in.n, oh + r.range(0, 1) * r.range(-1, 1), ow, out_c};
  if (!fits(in) || !fits(filter) || !fits(out) || out_c > 64) return;
  const int32_t n_scales = r.byte() % 2 ? out_c : 1;
  for (int32_t i = 0; i < n_scales; ++i) g_scales[i] = r.scale();
  const QuantInfo iq = r.quant(), oq = r.quant();
  r.fill(g_in, flat_size(in));
  r.fill(g_filter, flat_size(filter));
  for (int32_t i = 0; i < out_c; ++i) g_bias[i] = static_cast<int32_t>(r.byte() * 0x01010101u);
  ConvParams p;
  if (depthwise) {
    if (prepare_depthwise_conv(o, in, filter, out, iq, g_scales, n_scales, oq, g_mult, g_shift, &p) != Status::kOk) return;
    ++g_evals[1];
    eval_conv(p, g_mult, g_shift, in, g_in, g_filter, g_bias, out, g_out);
  } else {
    if (prepare_conv(o, in, filter, out, iq, g_scales, n_scales, oq, g_mult, g_shift, &p) != Status::kOk) return;
    ++g_evals[0];
    eval_conv(p, g_mult, g_shift, in, g_in, g_filter, g_bias, out, g_out);
  }
}

void fuzz_fc(Reader& r) {
  const int32_t batches = r.range(1, 3), accum = r.range(1, 64), depth = r.range(1, 40);
  const int32_t n_scales = r.byte() % 2 ? depth : 1;
  for (int32_t i = 0; i < n_scales; ++i) g_scales[i] = r.scale();
  const QuantInfo iq = r.quant(), oq = r.quant();
  const int32_t fzp = r.zero_point();
  r.fill(g_in, batches * accum);
  r.fill(g_filter, depth * accum);
  for (int32_t i = 0; i < depth; ++i) g_bias[i] = static_cast<int32_t>(r.byte() * 0x01010101u);
  ConvParams p;
  if (prepare_fully_connected(static_cast<Activation>(r.range(0, 4)), batches, accum, depth, iq, g_scales, n_scales,
                              fzp, oq, g_mult, g_shift, &p) != Status::kOk) {
    return;
  }
  ++g_evals[2];
  eval_fully_connected(p, g_mult, g_shift, batches, accum, depth, g_in, g_filter, g_bias, g_out);
}

void fuzz_pool(Reader& r) {
  PoolOptions o{static_cast<Padding>(r.range(0, 2)), r.range(1, 3), r.range(1, 3), r.range(1, 5), r.range(1, 5),
                static_cast<Activation>(r.range(0, 4))};
  const Shape4 in = shape(r, 9);
  const Shape4 out{in.n, conv_output_size(o.padding, in.h, o.filter_h, o.stride_h, 1),
                   conv_output_size(o.padding, in.w, o.filter_w, o.stride_w, 1) + r.range(0, 1), in.c};
  if (!fits(in) || !fits(out)) return;
  const QuantInfo iq = r.quant(), oq = r.quant();
  r.fill(g_in, flat_size(in));
  ConvParams p;
  const bool is_max = r.byte() % 2;
  if (prepare_pool(o, is_max ? WindowKind::kMaxPool : WindowKind::kAveragePool, in, out, iq, oq, &p) != Status::kOk) {
    return;
  }
  ++g_evals[3];
  if (is_max) {
    eval_max_pool(p, in, g_in, out, g_out);
  } else {
    eval_conv(p, nullptr, nullptr, in, g_in, nullptr, nullptr, out, g_out);
  }
}

void fuzz_mean(Reader& r) {
  const int32_t rank = r.range(1, 4);
  int32_t dims[4];
  for (int32_t i = 0; i < rank; ++i) dims[i] = r.range(1, 9);
  int32_t axes[4];
  const int32_t n_axes = r.range(0, 4);
  for (int32_t i = 0; i < n_axes; ++i) axes[i] = r.range(-5, 4);
  Shape4 s;
  if (shape4_from_dims(dims, rank, &s) != Status::kOk || !fits(s)) return;
  const QuantInfo iq = r.quant(), oq = r.quant();
  r.fill(g_in, flat_size(s));
  MeanParams p;
  if (prepare_mean(s, rank, axes, n_axes, iq, oq, &p) != Status::kOk) return;
  ++g_evals[4];
  eval_mean(p, s, g_in, g_out);
}

void fuzz_binary(Reader& r) {
  const Shape4 out = shape(r, 6);
  Shape4 a = out, b = out;
  int32_t* da[4] = {&a.n, &a.h, &a.w, &a.c};
  int32_t* db[4] = {&b.n, &b.h, &b.w, &b.c};
  for (int32_t i = 0; i < 4; ++i) {
    if (r.byte() % 3 == 0) *da[i] = 1;
    if (r.byte() % 3 == 0) *db[i] = 1;
    if (r.byte() % 16 == 0) *db[i] = 2;  // sometimes not broadcastable
  }
  if (!fits(out) || !fits(a) || !fits(b) || check_broadcast(a, b, out) != Status::kOk) return;
  const QuantInfo q1 = r.quant(), q2 = r.quant(), oq = r.quant();
  const Activation act = static_cast<Activation>(r.range(0, 4));
  r.fill(g_in, flat_size(a));
  r.fill(g_in2, flat_size(b));
  if (r.byte() % 2) {
    AddParams p;
    if (prepare_add(act, q1, q2, oq, &p) == Status::kOk) ++g_evals[5], eval_add(p, a, g_in, b, g_in2, out, g_out);
  } else {
    MulParams p;
    if (prepare_mul(act, q1, q2, oq, &p) == Status::kOk) ++g_evals[5], eval_mul(p, a, g_in, b, g_in2, out, g_out);
  }
}

void fuzz_unary(Reader& r) {
  const int32_t n = r.range(1, 700);
  const QuantInfo iq = r.quant(), oq = r.quant();
  r.fill(g_in, n);
  switch (r.byte() % 9) {
    case 0: { ReluParams p; if (prepare_relu(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_relu(p, n, g_in, g_out); break; }
    case 1: { Relu6Params p; if (prepare_relu6(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_relu6(p, n, g_in, g_out); break; }
    case 2: { SigmoidParams p; if (prepare_logistic(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_logistic(p, n, g_in, g_out); break; }
    case 3: { SigmoidParams p; if (prepare_tanh(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_tanh(p, n, g_in, g_out); break; }
    case 4: { HardSwishParams p; if (prepare_hard_swish(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_hard_swish(p, n, g_in, g_out); break; }
    case 5: { RequantizeParams p; if (prepare_requantize(iq, oq, &p) == Status::kOk) ++g_evals[6], eval_requantize(p, n, g_in, g_out); break; }
    case 6: {
      SoftmaxParams p;
      const int32_t depth = r.range(1, n);
      const float beta = r.scale();
      if (prepare_softmax(beta, iq, oq, &p) == Status::kOk) ++g_evals[7], eval_softmax(p, n / depth, depth, g_in, g_out);
      break;
    }
    case 7: {
      for (int32_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(r.byte()) << 24 | static_cast<uint32_t>(r.byte()) << 16 | r.byte();
        memcpy(&g_fin[i], &bits, 4);
      }
      QuantizeParams p;
      if (prepare_quantize(oq, &p) == Status::kOk) ++g_evals[8], eval_quantize(p, n, g_fin, g_out);
      break;
    }
    default: { DequantizeParams p; if (prepare_dequantize(iq, &p) == Status::kOk) ++g_evals[6], eval_dequantize(p, n, g_in, g_fout); break; }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  atexit(print_evals);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  switch (r.byte() % 7) {
    case 0: fuzz_conv(r, false); break;
    case 1: fuzz_conv(r, true); break;
    case 2: fuzz_fc(r); break;
    case 3: fuzz_pool(r); break;
    case 4: fuzz_mean(r); break;
    case 5: fuzz_binary(r); break;
    default: fuzz_unary(r); break;
  }
  return 0;
}
