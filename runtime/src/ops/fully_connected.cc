// FULLY_CONNECTED glue: the input is flattened to batches x accum_depth (accum_depth = filter dim 1).
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::ConvParams) == 72, "update OP_DATA_BYTES in qbuild/plan.py");
constexpr uint32_t kMultipliersOffset = align8(sizeof(k::ConvParams));

}  // namespace

Status prepare_fully_connected(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (!weighted_io(ctx, 2)) return Status::kBadOpParams;
  static constexpr OptionField kFields[] = {{schema::fc::kActivation, 0, 0}, {schema::fc::kWeightsFormat, 0, 0}};
  int32_t v[2];
  // Shuffled weights (weights_format != 0) are not supported.
  if (!read_options(ctx, kFields, 2, v) || v[1] != 0) return Status::kBadOpParams;
  const auto act = static_cast<k::Activation>(v[0]);
  const int32_t depth = filter->dims[0], accum = filter->dims[1];
  const size_t batches = in->elements() / static_cast<size_t>(accum);
  if (in->elements() % static_cast<size_t>(accum) != 0 || out->elements() != batches * static_cast<size_t>(depth) ||
      out->dims[out->rank - 1] != depth) {
    return Status::kBadOpParams;
  }
  if (!bias_ok(ctx, depth)) return Status::kBadOpParams;
  WeightQuant w;
  Status qs = weight_quant(ctx, depth, -1, sizeof(k::ConvParams), &w);
  if (qs != Status::kOk) return qs;
  return from(k::prepare_fully_connected(act, static_cast<int32_t>(batches), accum, depth, quant(*in), w.scales,
                                         static_cast<int32_t>(w.count), filter->params.zero_point, quant(*out),
                                         w.multipliers, w.shifts, static_cast<k::ConvParams*>(w.params)));
}

Status eval_fully_connected(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::ConvParams>(0);
  const int32_t depth = filter->dims[0], accum = filter->dims[1];
  const int32_t* multipliers = nullptr;
  const int32_t* shifts = nullptr;
  if (p.per_channel) {
    multipliers = ctx.data_at<const int32_t>(kMultipliersOffset);
    shifts = ctx.data_at<const int32_t>(kMultipliersOffset + align8(4u * depth));
  }
  const int32_t batches = static_cast<int32_t>(in->elements() / static_cast<size_t>(accum));
  k::eval_fully_connected(p, multipliers, shifts, batches, accum, depth, in->data.int8, filter->data.int8,
                          bias ? bias->data.i32 : nullptr, out->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
