// AVERAGE_POOL_2D and MAX_POOL_2D glue.
#include <string.h>

#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::ConvParams) == 72, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

}  // namespace

Status pool_setup(OpContext& ctx, k::WindowKind kind, TensorType type, k::PoolOptions* options,
                  k::ConvParams** params_out) {
  const TensorView* in = ctx.input(0);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 1 || ctx.output_count() != 1 || !in || !out || in->type != type || out->type != type ||
      in->rank != 4 || out->rank != 4) {
    return Status::kBadOpParams;
  }
  namespace o = schema::pool;
  // In PoolOptions order: padding, stride h/w, filter h/w, activation.
  static constexpr OptionField kFields[] = {{o::kPadding, 0, 0}, {o::kStrideH, 1, 0}, {o::kStrideW, 1, 0},
                                            {o::kFilterH, 1, 0}, {o::kFilterW, 1, 0}, {o::kActivation, 0, 0}};
  static_assert(sizeof(k::PoolOptions) == 6 * sizeof(int32_t), "PoolOptions is read as 6 int32 fields");
  int32_t v[6];
  if (!read_options(ctx, kFields, 6, v)) return Status::kBadFlatbuffer;
  memcpy(options, v, sizeof(*options));
  // prepare_pool bounds strides and extents and checks the output size (kernels/conv.h, prepare_window).
  auto* params = static_cast<k::ConvParams*>(ctx.alloc(sizeof(k::ConvParams)));
  if (!params) return Status::kArenaTooSmall;
  *params_out = params;
  return from(k::prepare_pool(*options, kind, shape4(*in), shape4(*out), quant(*in), quant(*out), params));
}

namespace {

Status prepare(OpContext& ctx, k::WindowKind kind) {
  k::PoolOptions options;
  k::ConvParams* params = nullptr;
  return pool_setup(ctx, kind, TensorType::kInt8, &options, &params);
}

}  // namespace

Status prepare_average_pool_2d(OpContext& ctx) { return prepare(ctx, k::WindowKind::kAveragePool); }
Status prepare_max_pool_2d(OpContext& ctx) { return prepare(ctx, k::WindowKind::kMaxPool); }

Status eval_average_pool_2d(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  k::eval_conv(*ctx.data_at<const k::ConvParams>(0), nullptr, nullptr, shape4(*in), in->data.int8, nullptr, nullptr,
               shape4(*out), out->data.int8);
  return Status::kOk;
}

Status eval_max_pool_2d(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  TensorView* out = ctx.output(0);
  k::eval_max_pool(*ctx.data_at<const k::ConvParams>(0), shape4(*in), in->data.int8, shape4(*out), out->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
