// extern "C" test shim over runtime/kernels: one prepare+eval call per op, plain arrays in and out, for ctypes.
// Returns the prepare status (0 = ok); eval runs only on success.
#include "../../runtime/kernels/kernels.h"

using namespace qbuild::kernels;

namespace {

constexpr int32_t kMaxChannels = 8192;

Shape4 s4(const int32_t* d) { return Shape4{d[0], d[1], d[2], d[3]}; }

}  // namespace

extern "C" {

int shim_conv(int depthwise, const int32_t* o, const int32_t* in_shape, const int32_t* f_shape,
              const int32_t* out_shape, float in_scale, int32_t in_zp, const float* f_scales, int32_t n_scales,
              float out_scale, int32_t out_zp, const int8_t* in, const int8_t* w, const int32_t* bias,
              int8_t* out) {
  ConvOptions opt{static_cast<Padding>(o[0]), o[1], o[2], o[3], o[4], static_cast<Activation>(o[5]), o[6]};
  static int32_t mult[kMaxChannels];
  static int8_t shift[kMaxChannels];
  if (out_shape[3] > kMaxChannels) return 100;
  const bool pc = n_scales > 1;
  ConvParams p;
  Status s = depthwise ? prepare_depthwise_conv(opt, s4(in_shape), s4(f_shape), s4(out_shape), {in_scale, in_zp},
                                                f_scales, n_scales, {out_scale, out_zp}, pc ? mult : nullptr,
                                                pc ? shift : nullptr, &p)
                       : prepare_conv(opt, s4(in_shape), s4(f_shape), s4(out_shape), {in_scale, in_zp}, f_scales,
                                      n_scales, {out_scale, out_zp}, pc ? mult : nullptr, pc ? shift : nullptr, &p);
  if (s != Status::kOk) return static_cast<int>(s);
  eval_conv(p, pc ? mult : nullptr, pc ? shift : nullptr, s4(in_shape), in, w, bias, s4(out_shape), out);
  return 0;
}

int shim_fc(int32_t act, float in_scale, int32_t in_zp, const float* f_scales, int32_t n_scales, int32_t f_zp,
            float out_scale, int32_t out_zp, int32_t batches, int32_t accum, int32_t depth, const int8_t* in,
            const int8_t* w, const int32_t* bias, int8_t* out) {
  static int32_t mult[kMaxChannels];
  static int8_t shift[kMaxChannels];
  if (depth > kMaxChannels) return 100;
  const bool pc = n_scales > 1;
  ConvParams p;
  Status s = prepare_fully_connected(static_cast<Activation>(act), batches, accum, depth, {in_scale, in_zp}, f_scales,
                                     n_scales, f_zp, {out_scale, out_zp}, pc ? mult : nullptr, pc ? shift : nullptr,
                                     &p);
  if (s != Status::kOk) return static_cast<int>(s);
  eval_fully_connected(p, pc ? mult : nullptr, pc ? shift : nullptr, batches, accum, depth, in, w, bias, out);
  return 0;
}

int shim_pool(int is_max, const int32_t* o, const int32_t* in_shape, const int32_t* out_shape, float in_scale,
              int32_t in_zp, float out_scale, int32_t out_zp, const int8_t* in, int8_t* out) {
  PoolOptions opt{static_cast<Padding>(o[0]), o[1], o[2], o[3], o[4], static_cast<Activation>(o[5])};
  ConvParams p;
  Status s = prepare_pool(opt, is_max ? WindowKind::kMaxPool : WindowKind::kAveragePool, s4(in_shape), s4(out_shape),
                          {in_scale, in_zp}, {out_scale, out_zp}, &p);
  if (s != Status::kOk) return static_cast<int>(s);
  if (is_max) {
    eval_max_pool(p, s4(in_shape), in, s4(out_shape), out);
  } else {
    eval_conv(p, nullptr, nullptr, s4(in_shape), in, nullptr, nullptr, s4(out_shape), out);
  }
  return 0;
}

int shim_mean(const int32_t* dims, int32_t rank, const int32_t* axes, int32_t n_axes, float in_scale, int32_t in_zp,
              float out_scale, int32_t out_zp, const int8_t* in, int8_t* out) {
  Shape4 shape;
  Status s = shape4_from_dims(dims, rank, &shape);
  if (s != Status::kOk) return static_cast<int>(s);
  MeanParams p;
  s = prepare_mean(shape, rank, axes, n_axes, {in_scale, in_zp}, {out_scale, out_zp}, &p);
  if (s != Status::kOk) return static_cast<int>(s);
  eval_mean(p, shape, in, out);
  return 0;
}

int shim_softmax(float beta, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, int32_t outer,
                 int32_t depth, const int8_t* in, int8_t* out) {
  SoftmaxParams p;
  Status s = prepare_softmax(beta, {in_scale, in_zp}, {out_scale, out_zp}, &p);
  if (s != Status::kOk) return static_cast<int>(s);
  eval_softmax(p, outer, depth, in, out);
  return 0;
}

int shim_binary(int is_mul, int32_t act, const int32_t* sh1, const int32_t* sh2, const int32_t* sho, float s1,
                int32_t z1, float s2, int32_t z2, float so, int32_t zo, const int8_t* a, const int8_t* b,
                int8_t* out) {
  Status s = check_broadcast(s4(sh1), s4(sh2), s4(sho));
  if (s != Status::kOk) return static_cast<int>(s);
  if (is_mul) {
    MulParams p;
    s = prepare_mul(static_cast<Activation>(act), {s1, z1}, {s2, z2}, {so, zo}, &p);
    if (s != Status::kOk) return static_cast<int>(s);
    eval_mul(p, s4(sh1), a, s4(sh2), b, s4(sho), out);
  } else {
    AddParams p;
    s = prepare_add(static_cast<Activation>(act), {s1, z1}, {s2, z2}, {so, zo}, &p);
    if (s != Status::kOk) return static_cast<int>(s);
    eval_add(p, s4(sh1), a, s4(sh2), b, s4(sho), out);
  }
  return 0;
}

// kind: 0 relu, 1 relu6, 2 logistic, 3 tanh, 4 hard_swish, 5 requantize (int8 -> int8 QUANTIZE)
int shim_unary(int kind, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, int32_t size,
               const int8_t* in, int8_t* out) {
  const QuantInfo iq{in_scale, in_zp};
  const QuantInfo oq{out_scale, out_zp};
  Status s = Status::kUnsupportedOptions;
  switch (kind) {
    case 0: {
      ReluParams p;
      if ((s = prepare_relu(iq, oq, &p)) == Status::kOk) eval_relu(p, size, in, out);
      break;
    }
    case 1: {
      Relu6Params p;
      if ((s = prepare_relu6(iq, oq, &p)) == Status::kOk) eval_relu6(p, size, in, out);
      break;
    }
    case 2: {
      SigmoidParams p;
      if ((s = prepare_logistic(iq, oq, &p)) == Status::kOk) eval_logistic(p, size, in, out);
      break;
    }
    case 3: {
      SigmoidParams p;
      if ((s = prepare_tanh(iq, oq, &p)) == Status::kOk) eval_tanh(p, size, in, out);
      break;
    }
    case 4: {
      HardSwishParams p;
      if ((s = prepare_hard_swish(iq, oq, &p)) == Status::kOk) eval_hard_swish(p, size, in, out);
      break;
    }
    case 5: {
      RequantizeParams p;
      if ((s = prepare_requantize(iq, oq, &p)) == Status::kOk) eval_requantize(p, size, in, out);
      break;
    }
    default:
      break;
  }
  return static_cast<int>(s);
}

int shim_quantize(float out_scale, int32_t out_zp, int32_t size, const float* in, int8_t* out) {
  QuantizeParams p;
  Status s = prepare_quantize({out_scale, out_zp}, &p);
  if (s == Status::kOk) eval_quantize(p, size, in, out);
  return static_cast<int>(s);
}

int shim_dequantize(float in_scale, int32_t in_zp, int32_t size, const int8_t* in, float* out) {
  DequantizeParams p;
  Status s = prepare_dequantize({in_scale, in_zp}, &p);
  if (s == Status::kOk) eval_dequantize(p, size, in, out);
  return static_cast<int>(s);
}

// Params structs must not change size between 32- and 64-bit builds: report their sizes for a test.
int shim_params_sizes(int32_t* out) {
  const int32_t sizes[] = {
      sizeof(ConvParams),      sizeof(ConvParams),           sizeof(ConvParams),      sizeof(MeanParams),
      sizeof(SoftmaxParams),   sizeof(AddParams),            sizeof(MulParams),       sizeof(ReluParams),
      sizeof(Relu6Params),     sizeof(SigmoidParams),        sizeof(HardSwishParams), sizeof(QuantizeParams),
      sizeof(RequantizeParams), sizeof(DequantizeParams)};
  const int n = static_cast<int>(sizeof(sizes) / sizeof(sizes[0]));
  for (int i = 0; i < n; ++i) out[i] = sizes[i];
  return n;
}

}  // extern "C"
