// ADD, SUB and MUL glue (int8, and int16 with QBUILD_INT16: the *_any entry points; broadcasting over up to 4 dims).
#include "glue.h"
#include "int16.h"

namespace qbuild {
namespace ops {
namespace {

static_assert(sizeof(k::AddParams) == 48, "update OP_DATA_BYTES in qbuild/tflite/plan.py");
static_assert(sizeof(k::MulParams) == 28, "update OP_DATA_BYTES in qbuild/tflite/plan.py");

k::Activation activation(const OpContext& ctx) {
  return static_cast<k::Activation>(ctx.fb->scalar<int8_t>(ctx.options, schema::binary::kActivation, 0));
}

}  // namespace

Status prepare_add(OpContext& ctx) {
  Status s = broadcast_io(ctx, TensorType::kInt8);
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
  Status s = broadcast_io(ctx, TensorType::kInt8);
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
  Status s = broadcast_io(ctx, TensorType::kInt8);
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

#if QBUILD_INT16
// 16x8: the *_any entry points (ops/int16.h) pick the int16 glue by the first input's type. Same op data sizes.
namespace {

template <typename Params, k::Status (*Prepare)(k::Activation, k::QuantInfo, k::QuantInfo, k::QuantInfo, Params*)>
Status prepare16(OpContext& ctx) {
  Status s = broadcast_io(ctx, TensorType::kInt16);
  if (s != Status::kOk) return s;
  auto* params = static_cast<Params*>(ctx.alloc(sizeof(Params)));
  if (!params) return Status::kArenaTooSmall;
  return from(Prepare(activation(ctx), quant(*ctx.input(0)), quant(*ctx.input(1)), quant(*ctx.output(0)), params));
}

template <typename Params, void (*Eval)(const Params&, const k::Shape4&, const int16_t*, const k::Shape4&,
                                        const int16_t*, const k::Shape4&, int16_t*)>
Status eval16(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  Eval(*ctx.data_at<const Params>(0), shape4(*a), a->data.i16, shape4(*b), b->data.i16, shape4(*out), out->data.i16);
  return Status::kOk;
}

}  // namespace

// prepare_<op>_any / eval_<op>_any: the int16 glue for int16 tensors, else the int8 one.
#define QBUILD_BINARY_ANY(op, Params)                                                                      \
  Status prepare_##op##_any(OpContext& ctx) {                                                              \
    return is_int16(ctx.input(0)) ? prepare16<k::Params, k::prepare_##op##16>(ctx) : prepare_##op(ctx);   \
  }                                                                                                        \
  Status eval_##op##_any(OpContext& ctx) {                                                                 \
    return is_int16(ctx.input(0)) ? eval16<k::Params, k::eval_##op##16>(ctx) : eval_##op(ctx);            \
  }

QBUILD_BINARY_ANY(add, AddParams)
QBUILD_BINARY_ANY(sub, AddParams)
QBUILD_BINARY_ANY(mul, MulParams)

#undef QBUILD_BINARY_ANY
#endif  // QBUILD_INT16

}  // namespace ops
}  // namespace qbuild
