// MAXIMUM and MINIMUM (Keras Maximum/Minimum), int8 with broadcasting over up to 4 dims. TFLM compares the raw int8
// values whatever the quantization (the converter gives inputs and output one scale), so no op data.
#include "glue.h"

namespace qbuild {
namespace ops {
namespace {

Status prepare_minmax(OpContext& ctx) { return broadcast_io(ctx, TensorType::kInt8); }

template <bool kMax>
Status eval_minmax(OpContext& ctx) {
  const TensorView* a = ctx.input(0);
  const TensorView* b = ctx.input(1);
  TensorView* out = ctx.output(0);
  const k::Shape4 sa = shape4(*a);
  const k::Shape4 sb = shape4(*b);
  const k::Shape4 so = shape4(*out);
  // Element strides of each input inside the output: 0 along its broadcast axes.
  const int32_t da[4] = {sa.n == 1 ? 0 : sa.h * sa.w * sa.c, sa.h == 1 ? 0 : sa.w * sa.c, sa.w == 1 ? 0 : sa.c,
                         sa.c == 1 ? 0 : 1};
  const int32_t db[4] = {sb.n == 1 ? 0 : sb.h * sb.w * sb.c, sb.h == 1 ? 0 : sb.w * sb.c, sb.w == 1 ? 0 : sb.c,
                         sb.c == 1 ? 0 : 1};
  int8_t* o = out->data.int8;
  for (int32_t n = 0; n < so.n; ++n)
    for (int32_t h = 0; h < so.h; ++h)
      for (int32_t w = 0; w < so.w; ++w)
        for (int32_t c = 0; c < so.c; ++c) {
          const int8_t x = a->data.int8[n * da[0] + h * da[1] + w * da[2] + c * da[3]];
          const int8_t y = b->data.int8[n * db[0] + h * db[1] + w * db[2] + c * db[3]];
          *o++ = kMax ? (x > y ? x : y) : (x < y ? x : y);
        }
  return Status::kOk;
}

}  // namespace

Status prepare_maximum(OpContext& ctx) { return prepare_minmax(ctx); }
Status eval_maximum(OpContext& ctx) { return eval_minmax<true>(ctx); }
Status prepare_minimum(OpContext& ctx) { return prepare_minmax(ctx); }
Status eval_minimum(OpContext& ctx) { return eval_minmax<false>(ctx); }

}  // namespace ops
}  // namespace qbuild
