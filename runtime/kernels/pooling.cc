#include "pooling.h"

#include "conv.h"

namespace qbuild {
namespace kernels {

Status prepare_pool(const PoolOptions& opt, const Shape4& input, const Shape4& output, QuantInfo input_q,
                    QuantInfo output_q, PoolParams* params) {
  if (opt.padding != Padding::kSame && opt.padding != Padding::kValid) return Status::kUnsupportedPadding;
  if (opt.stride_h < 1 || opt.stride_w < 1 || opt.filter_h < 1 || opt.filter_w < 1) {
    return Status::kUnsupportedOptions;
  }
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (!sane_shape(input) || !sane_shape(output) || input.n != output.n || input.c != output.c ||
      conv_output_size(opt.padding, input.h, opt.filter_h, opt.stride_h, 1) != output.h ||
      conv_output_size(opt.padding, input.w, opt.filter_w, opt.stride_w, 1) != output.w) {
    return Status::kBadShape;
  }
  PoolParams r{};
  r.stride_h = opt.stride_h;
  r.stride_w = opt.stride_w;
  r.filter_h = opt.filter_h;
  r.filter_w = opt.filter_w;
  r.pad_h = leading_padding(opt.stride_h, 1, input.h, opt.filter_h, output.h);
  r.pad_w = leading_padding(opt.stride_w, 1, input.w, opt.filter_w, output.w);
  const Status s = activation_range(opt.activation, output_q, &r.act_min, &r.act_max);
  if (s != Status::kOk) return s;
  *params = r;
  return Status::kOk;
}

namespace {

inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

// Walks every output pixel and channel of a pool. `reduce(row0, row_stride, depth, rows, fx_start, fx_end, count)` gets
// the first in-bounds window row (tap fx of row k at row0[k * row_stride + fx * depth]), the number of in-bounds rows and
// the in-bounds tap range in x, and returns the int32 result before the activation clamp. Shared by both pools.
template <typename Reduce>
inline void pool(const PoolParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                 int8_t* output_data, Reduce reduce) {
  const int32_t depth = output.c;
  for (int32_t b = 0; b < output.n; ++b) {
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      const int32_t fy_start = max_i32(0, -iy0);
      const int32_t fy_end = min_i32(p.filter_h, input.h - iy0);
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        const int32_t fx_start = max_i32(0, -ix0);
        const int32_t fx_end = min_i32(p.filter_w, input.w - ix0);
        // Only the pixels inside the input are counted (TFLite's reference average).
        const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
        int8_t* out = output_data + ((b * output.h + oy) * output.w + ox) * depth;
        for (int32_t c = 0; c < depth; ++c) {
          const int8_t* row0 = input_data + ((b * input.h + iy0 + fy_start) * input.w + ix0) * depth + c;
          const int32_t v = reduce(row0, input.w * depth, depth, fy_end - fy_start, fx_start, fx_end, count);
          out[c] = static_cast<int8_t>(clamp_i32(v, p.act_min, p.act_max));
        }
      }
    }
  }
}

}  // namespace

void eval_average_pool(const PoolParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                       int8_t* output_data) {
  pool(p, input, input_data, output, output_data,
       [](const int8_t* row0, int32_t row_stride, int32_t depth, int32_t rows, int32_t fx_start, int32_t fx_end,
          int32_t count) {
         int32_t acc = 0;
         for (int32_t k = 0; k < rows; ++k) {
           const int8_t* row = row0 + k * row_stride;
           for (int32_t fx = fx_start; fx < fx_end; ++fx) acc += row[fx * depth];
         }
         QBUILD_KERNEL_ASSERT(count > 0);
         // Rounds half away from zero.
         return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
       });
}

void eval_max_pool(const PoolParams& p, const Shape4& input, const int8_t* input_data, const Shape4& output,
                   int8_t* output_data) {
  pool(p, input, input_data, output, output_data,
       [](const int8_t* row0, int32_t row_stride, int32_t depth, int32_t rows, int32_t fx_start, int32_t fx_end,
          int32_t /*count*/) {
         int32_t m = -128;
         for (int32_t k = 0; k < rows; ++k) {
           const int8_t* row = row0 + k * row_stride;
           for (int32_t fx = fx_start; fx < fx_end; ++fx) m = max_i32(m, row[fx * depth]);
         }
         return m;
       });
}

}  // namespace kernels
}  // namespace qbuild
