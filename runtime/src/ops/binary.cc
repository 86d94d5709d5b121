// ADD, SUB and MUL glue (int8, broadcasting over up to 4 dims).
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::AddParams) == 48, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::MulParams) == 28, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

Status check(const OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  const TensorView* out = ctx.output(0);
  if (ctx.input_count() != 2 || ctx.output_count() != 1 || !is_int8(a) || !is_int8(b) || !is_int8(out)) {
    return Status::kBadOpParams;
  }
  if (a->rank > 4 || b->rank > 4 || out->rank > 4) return Status::kBadOpParams;
  return from(k::check_broadcast(shape4(*a), shape4(*b), shape4(*out)));
}

k::Activation activation(const OpContext& ctx) {
  return static_cast<k::Activation>(ctx.fb->scalar<int8_t>(ctx.options, schema::binary::kActivation, 0));
}

}  // namespace

Status prepare_add(OpContext& ctx) {
  Status s = check(ctx);
  if (s != Status::kOk) return s;
  auto* params = static_cast<k::AddParams*>(ctx.alloc(sizeof(k::AddParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_add(activation(ctx), quant(*ctx.input(0)), quant(*ctx.input(1)), quant(*ctx.output(0)),
                             params));
}

Status eval_add(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  k::eval_add(*ctx.data_at<const k::AddParams>(0), shape4(*a), a->data.int8, shape4(*b), b->data.int8, shape4(*out),
              out->data.int8);
  return Status::kOk;
}

Status prepare_sub(OpContext& ctx) {
  Status s = check(ctx);
  if (s != Status::kOk) return s;
  auto* params = static_cast<k::AddParams*>(ctx.alloc(sizeof(k::AddParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_sub(activation(ctx), quant(*ctx.input(0)), quant(*ctx.input(1)), quant(*ctx.output(0)),
                             params));
}

Status eval_sub(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  k::eval_sub(*ctx.data_at<const k::AddParams>(0), shape4(*a), a->data.int8, shape4(*b), b->data.int8, shape4(*out),
              out->data.int8);
  return Status::kOk;
}

Status prepare_mul(OpContext& ctx) {
  Status s = check(ctx);
  if (s != Status::kOk) return s;
  auto* params = static_cast<k::MulParams*>(ctx.alloc(sizeof(k::MulParams)));
  if (!params) return Status::kArenaTooSmall;
  return from(k::prepare_mul(activation(ctx), quant(*ctx.input(0)), quant(*ctx.input(1)), quant(*ctx.output(0)),
                             params));
}

Status eval_mul(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  k::eval_mul(*ctx.data_at<const k::MulParams>(0), shape4(*a), a->data.int8, shape4(*b), b->data.int8, shape4(*out),
              out->data.int8);
  return Status::kOk;
}

}  // namespace ops
}  // namespace qbuild
