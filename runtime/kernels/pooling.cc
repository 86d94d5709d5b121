#include "pooling.h"

namespace qbuild {
namespace kernels {

Status prepare_pool(const PoolOptions& opt, WindowKind kind, const Shape4& input, const Shape4& output,
                    QuantInfo input_q, QuantInfo output_q, ConvParams* params) {
  if (kind != WindowKind::kAveragePool && kind != WindowKind::kMaxPool) return Status::kUnsupportedOptions;
  if (opt.filter_h < 1 || opt.filter_w < 1) return Status::kUnsupportedOptions;
  if (input.c != output.c) return Status::kBadShape;
  const ConvOptions conv{opt.padding, opt.stride_h, opt.stride_w, 1, 1, opt.activation, 0};
  ConvParams r{};
  const Status s = prepare_window(conv, opt.filter_h, opt.filter_w, input, output, input_q, output_q, &r);
  if (s != Status::kOk) return s;
  r.kind = kind;
  r.depth = 1;
  r.input_offset = 0;  // TFLite pools work on the raw int8 values (input and output share their quantization)
  r.output_offset = 0;
  *params = r;
  return Status::kOk;
}

void eval_max_pool(const ConvParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                   int8_t* output_data) {
  const int32_t depth = output.c;
  int8_t* out = output_data;
  for (int32_t b = 0; b < output.n; ++b) {
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      const int32_t fy_start = iy0 < 0 ? -iy0 : 0;
      const int32_t fy_end = p.filter_h < input.h - iy0 ? p.filter_h : input.h - iy0;
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        const int32_t fx_start = ix0 < 0 ? -ix0 : 0;
        const int32_t fx_end = p.filter_w < input.w - ix0 ? p.filter_w : input.w - ix0;
        for (int32_t c = 0; c < depth; ++c) {
          int32_t m = -128;
          for (int32_t fy = fy_start; fy < fy_end; ++fy) {
            const int8_t* row = input_data + ((b * input.h + iy0 + fy) * input.w + ix0) * depth + c;
            for (int32_t fx = fx_start; fx < fx_end; ++fx) m = row[fx * depth] > m ? row[fx * depth] : m;
          }
          *out++ = static_cast<int8_t>(clamp_i32(m, p.act_min, p.act_max));
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
