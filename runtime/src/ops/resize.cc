// RESIZE_BILINEAR glue (int8, rank 4): the size input must match the output's height and width.
#include "glue.h"

namespace qbuild {
namespace ops {

static_assert(sizeof(k::ResizeBilinearParams) == 12, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status prepare_resize_bilinear(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* size = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int8(in) || !is_int8(out) || in->rank != 4 ||
      out->rank != 4 || !size || !size->is_constant || size->type != TensorType::kInt32 || size->elements() != 2 ||
      size->data.i32[0] != out->dims[1] || size->data.i32[1] != out->dims[2]) {
    return Status::kBadOpParams;
  }
  namespace o = schema::resize_bilinear;
  const bool align = ctx.fb->scalar<uint8_t>(ctx.options, o::kAlignCorners, 0) != 0;
  const bool half_pixel = ctx.fb->scalar<uint8_t>(ctx.options, o::kHalfPixelCenters, 0) != 0;
  if (!ctx.fb->ok()) return Status::kBadFlatbuffer;
  auto* params = static_cast<k::ResizeBilinearParams*>(ctx.alloc(sizeof(k::ResizeBilinearParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_resize_bilinear(shape4(*in), shape4(*out), align, half_pixel, quant(*in), quant(*out),
                                         params));
}

Status eval_resize_bilinear(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  k::eval_resize_bilinear(*ctx.data_at<const k::ResizeBilinearParams>(0), shape4(*in), in->data.int8, shape4(*out),
                          out->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
