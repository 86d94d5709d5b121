#include "resize.h"

namespace qbuild {
namespace kernels {
namespace {

// The source coordinate of output index `value` in Q10 and the two neighbouring input indices.
void source(int32_t value, int32_t scale_10, bool half_pixel, int32_t input_size, int32_t* scaled, int32_t* lower,
            int32_t* upper) {
  *scaled = half_pixel ? value * scale_10 + scale_10 / 2 - (1 << 9) : value * scale_10;
  *lower = *scaled / (1 << 10) > 0 ? *scaled / (1 << 10) : 0;  // C division truncates, as TFLite's
  const int32_t up = (*scaled + (1 << 10) - 1) / (1 << 10);
  *upper = up < input_size - 1 ? up : input_size - 1;
}

}  // namespace

Status prepare_resize_bilinear(const Shape4& input, const Shape4& output, bool align_corners, bool half_pixel_centers,
                               QuantInfo input_q, QuantInfo output_q, ResizeBilinearParams* params) {
  if (!valid_quant(input_q) || !valid_quant(output_q)) return Status::kBadQuantization;
  if (input_q.scale != output_q.scale || input_q.zero_point != output_q.zero_point) {
    return Status::kUnsupportedQuantization;  // TFLM copies interpolated raw values
  }
  if (align_corners && half_pixel_centers) return Status::kUnsupportedOptions;
  // Sizes below 2^14 keep every Q10 product inside int32.
  if (!sane_shape(input) || !sane_shape(output) || input.n != output.n || input.c != output.c || input.h >= (1 << 14) ||
      input.w >= (1 << 14) || output.h >= (1 << 14) || output.w >= (1 << 14)) {
    return Status::kBadShape;
  }
  ResizeBilinearParams r{};
  r.height_scale_10 = ((1 << 10) * input.h + output.h / 2) / output.h;
  r.width_scale_10 = ((1 << 10) * input.w + output.w / 2) / output.w;
  if (align_corners && output.h > 1) {
    r.height_scale_10 = ((1 << 10) * (input.h - 1) + (output.h - 1) / 2) / (output.h - 1);
  }
  if (align_corners && output.w > 1) {
    r.width_scale_10 = ((1 << 10) * (input.w - 1) + (output.w - 1) / 2) / (output.w - 1);
  }
  r.half_pixel_centers = half_pixel_centers ? 1 : 0;
  *params = r;
  return Status::kOk;
}

void eval_resize_bilinear(const ResizeBilinearParams& p, const Shape4& input, const int8_t* input_data,
                          const Shape4& output, int8_t* output_data) {
  const int32_t c_n = input.c;
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in = input_data + b * input.h * input.w * c_n;
    for (int32_t y = 0; y < output.h; ++y) {
      int32_t sy, y0, y1;
      source(y, p.height_scale_10, p.half_pixel_centers != 0, input.h, &sy, &y0, &y1);
      const int32_t dy = sy - (1 << 10) * y0;
      for (int32_t x = 0; x < output.w; ++x) {
        int32_t sx, x0, x1;
        source(x, p.width_scale_10, p.half_pixel_centers != 0, input.w, &sx, &x0, &x1);
        const int32_t dx = sx - (1 << 10) * x0;
        const int8_t* ll = in + (y0 * input.w + x0) * c_n;
        const int8_t* lu = in + (y1 * input.w + x0) * c_n;
        const int8_t* rl = in + (y0 * input.w + x1) * c_n;
        const int8_t* ru = in + (y1 * input.w + x1) * c_n;
        for (int32_t c = 0; c < c_n; ++c) {
          // |sum| <= 128 * 2^20: int32 holds what TFLite computes in int64.
          const int32_t sum = ll[c] * ((1 << 10) - dy) * ((1 << 10) - dx) + lu[c] * dy * ((1 << 10) - dx) +
                              rl[c] * ((1 << 10) - dy) * dx + ru[c] * dy * dx;
          const int32_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          *output_data++ = static_cast<int8_t>((sum + round) / (1 << 20));
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace qbuild
