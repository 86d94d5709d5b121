// FULLY_CONNECTED glue: the input is flattened to batches x accum_depth (accum_depth = filter dim 1).
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::FullyConnectedParams) == 32, "update OP_DATA_BYTES in qbuild/plan.py");
constexpr uint32_t kMultipliersOffset = align8(sizeof(k::FullyConnectedParams));

}  // namespace

Status prepare_fully_connected(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() < 2 || ctx.input_count() > 3 || ctx.output_count() != 1) return Status::kBadOpParams;
  if (!is_int8(in) || !is_int8(filter) || !is_int8(out) || !filter->is_constant || filter->rank != 2) {
    return Status::kBadOpParams;
  }
  const FbReader& fb = *ctx.fb;
  auto act = static_cast<k::Activation>(fb.scalar<int8_t>(ctx.options, schema::fc::kActivation, 0));
  int8_t weights_format = fb.scalar<int8_t>(ctx.options, schema::fc::kWeightsFormat, 0);
  if (!fb.ok() || weights_format != 0) return Status::kBadOpParams;  // shuffled weights are not supported
  const int32_t depth = filter->dims[0], accum = filter->dims[1];
  const size_t batches = in->elements() / static_cast<size_t>(accum);
  if (in->elements() % static_cast<size_t>(accum) != 0 || out->elements() != batches * static_cast<size_t>(depth) ||
      out->dims[out->rank - 1] != depth) {
    return Status::kBadOpParams;
  }
  if (bias && (bias->type != TensorType::kInt32 || bias->elements() != static_cast<size_t>(depth))) {
    return Status::kBadOpParams;
  }
  uint32_t num_scales;
  int32_t qdim;
  const float* scales = ctx.scales(1, &num_scales, &qdim);
  if (!scales || (num_scales != 1 && num_scales != static_cast<uint32_t>(depth))) return Status::kBadQuantization;
  auto* params = static_cast<k::FullyConnectedParams*>(ctx.alloc(sizeof(k::FullyConnectedParams)));
  int32_t* multipliers = nullptr;
  int32_t* shifts = nullptr;
  if (num_scales > 1) {
    multipliers = static_cast<int32_t*>(ctx.alloc(4u * depth));
    shifts = static_cast<int32_t*>(ctx.alloc(4u * depth));
  }
  if (!params || (num_scales > 1 && (!multipliers || !shifts))) return Status::kArenaTooSmall;
  k::Status s = k::prepare_fully_connected(act, {in->params.scale, in->params.zero_point}, scales,
                                           static_cast<int32_t>(num_scales), filter->params.zero_point,
                                           {out->params.scale, out->params.zero_point}, depth, multipliers, shifts,
                                           params);
  return from_kernel(static_cast<int32_t>(s));
}

Status eval_fully_connected(OpContext& ctx) {
  const TensorView* in = ctx.input(0);
  const TensorView* filter = ctx.input(1);
  const TensorView* bias = ctx.input(2);
  TensorView* out = ctx.output(0);
  const auto& p = *ctx.data_at<const k::FullyConnectedParams>(0);
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
