// UNIDIRECTIONAL_SEQUENCE_LSTM glue (TFLM's integer LSTM: int8 activations and weights, int16 cell state). Its 24
// inputs: 0 input, 1-4 input weights and 5-8 recurrent weights (gates input, forget, cell, output), 9-11 peephole,
// 12-15 gate biases, 16-17 projection, 18 hidden state, 19 cell state (both variable tensors: arena storage that
// load() resets and invoke() updates), 20-23 layer norm. Peephole, projection and layer norm must be absent.
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::LstmParams) == 136, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

constexpr int kInput = 0, kHidden = 18, kCell = 19;

bool absent(const OpContext& ctx, int i) { return ctx.input(i) == nullptr; }

// A per-tensor, symmetric int8 weight of {rows, cols}; its scale in *scale.
bool weight_ok(const OpContext& ctx, int i, int32_t rows, int32_t cols, float* scale) {
  const TensorView* w = ctx.input(i);
  uint32_t count = 0;
  int32_t qdim = 0;
  if (!is_int8(w) || !w->is_constant || w->is_variable || w->rank != 2 || w->dims[0] != rows || w->dims[1] != cols ||
      w->params.zero_point != 0 || !ctx.scales(i, &count, &qdim) || count != 1) {
    return false;
  }
  *scale = w->params.scale;
  return true;
}

}  // namespace

Status prepare_unidirectional_sequence_lstm(OpContext& ctx) {
  const TensorView* in = ctx.input(kInput);
  const TensorView* hidden = ctx.input(kHidden);
  const TensorView* cell = ctx.input(kCell);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 24 || ctx.output_count() != 1 || !is_int8(in) || !is_int8(out) || in->rank != 3 ||
      out->rank != 3 || !is_int8(hidden) || !hidden->is_variable || !cell || cell->type != TensorType::kInt16 ||
      !cell->is_variable) {
    return Status::kBadOpParams;
  }
  static constexpr uint8_t kAbsent[] = {9, 10, 11, 16, 17, 20, 21, 22, 23};
  for (uint8_t i : kAbsent) {
    if (!absent(ctx, i)) return Status::kBadOpParams;
  }
  namespace o = schema::lstm;
  const FbReader& fb = *ctx.fb;
  const int32_t act = fb.scalar<int8_t>(ctx.options, o::kActivation, 0);
  const float cell_clip = fb.scalar<float>(ctx.options, o::kCellClip, 0.0f);
  const float proj_clip = fb.scalar<float>(ctx.options, o::kProjClip, 0.0f);
  const bool time_major = fb.scalar<uint8_t>(ctx.options, o::kTimeMajor, 0) != 0;
  if (!fb.ok()) return Status::kBadFlatbuffer;
  (void)proj_clip;  // no projection
  const int32_t batches = time_major ? in->dims[1] : in->dims[0];
  const int32_t steps = time_major ? in->dims[0] : in->dims[1];
  const int32_t input_size = in->dims[2];
  const int32_t state_size = out->dims[2];
  if (out->dims[0] != in->dims[0] || out->dims[1] != in->dims[1] ||
      hidden->elements() != static_cast<size_t>(batches) * state_size ||
      cell->elements() != static_cast<size_t>(batches) * state_size ||
      out->params.scale != hidden->params.scale || out->params.zero_point != hidden->params.zero_point) {
    return Status::kBadOpParams;
  }
  k::LstmQuant q{};
  q.input = quant(*in);
  q.hidden = quant(*hidden);
  q.cell_scale = cell->params.scale;
  if (cell->params.zero_point != 0) return Status::kBadQuantization;
  for (int g = 0; g < k::kLstmGates; ++g) {
    const TensorView* bias = ctx.input(12 + g);
    if (!weight_ok(ctx, 1 + g, state_size, input_size, &q.input_weight_scales[g]) ||
        !weight_ok(ctx, 5 + g, state_size, state_size, &q.recurrent_weight_scales[g]) || !bias ||
        !bias->is_constant || bias->is_variable || bias->type != TensorType::kInt32 ||
        bias->elements() != static_cast<size_t>(state_size)) {
      return Status::kBadOpParams;
    }
  }
  auto* params = static_cast<k::LstmParams*>(ctx.alloc(sizeof(k::LstmParams)));
  if (!params) return Status::kArenaTooSmall;
  const Status s = from(k::prepare_lstm(batches, steps, input_size, state_size, time_major, act, cell_clip, q, params));
  if (s != Status::kOk) return s;
  ctx.scratch_bytes = static_cast<uint32_t>(k::lstm_scratch_bytes(*params));
  return Status::kOk;
}

Status eval_unidirectional_sequence_lstm(OpContext& ctx) {
  k::LstmWeights w;
  for (int g = 0; g < k::kLstmGates; ++g) {
    w.input[g] = ctx.input(1 + g)->data.int8;
    w.recurrent[g] = ctx.input(5 + g)->data.int8;
    w.bias[g] = ctx.input(12 + g)->data.i32;
  }
  k::eval_lstm(*ctx.data_at<const k::LstmParams>(0), w, ctx.input(kInput)->data.int8, ctx.input(kHidden)->data.int8,
               ctx.input(kCell)->data.i16, ctx.output(0)->data.int8, reinterpret_cast<int16_t*>(ctx.scratch));
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
