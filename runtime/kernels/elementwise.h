// ADD, SUB and MUL, int8 (and int16 for 16x8), with TFLite-style broadcasting over up to 4 dims and a fused
// activation.
#ifndef QBUILD_KERNELS_ELEMENTWISE_H_
#define QBUILD_KERNELS_ELEMENTWISE_H_

#include "common.h"

namespace qbuild {
namespace kernels {

struct AddParams {
  int32_t input1_offset;  // -zero point
  int32_t input2_offset;
  int32_t output_offset;  // +zero point
  int32_t left_shift;     // 20 for int8, 15 for int16
  int32_t input1_multiplier;
  int32_t input1_shift;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t act_min;
  int32_t act_max;
};

struct MulParams {
  int32_t input1_offset;
  int32_t input2_offset;
  int32_t output_offset;
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t act_min;
  int32_t act_max;
};

Status prepare_add(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, AddParams* params);
Status prepare_mul(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, MulParams* params);

// Checks that in1/in2 broadcast to out (each dim equal to out's or 1). Shapes from shape4_from_dims.
Status check_broadcast(const Shape4& in1, const Shape4& in2, const Shape4& out);

// Shapes may differ (broadcast); when in1 == in2 == out a flat loop is used.
void eval_add(const AddParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data);
// SUB: TFLM's SUB prepares exactly like ADD (both inputs rescaled to twice the larger scale); eval subtracts.
inline Status prepare_sub(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q,
                          AddParams* params) {
  return prepare_add(act, input1_q, input2_q, output_q, params);
}
void eval_sub(const AddParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data);
void eval_mul(const MulParams& p, const Shape4& in1, const int8_t* in1_data, const Shape4& in2,
              const int8_t* in2_data, const Shape4& out, int8_t* out_data);

// 16x8 (int16 tensors): TFLM's same general quantized arithmetic, ADD/SUB with a left shift of 15 instead of 20, the
// clamp in the int16 range.
Status prepare_add16(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, AddParams* params);
inline Status prepare_sub16(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q,
                            AddParams* params) {
  return prepare_add16(act, input1_q, input2_q, output_q, params);
}
Status prepare_mul16(Activation act, QuantInfo input1_q, QuantInfo input2_q, QuantInfo output_q, MulParams* params);
void eval_add16(const AddParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data);
void eval_sub16(const AddParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data);
void eval_mul16(const MulParams& p, const Shape4& in1, const int16_t* in1_data, const Shape4& in2,
                const int16_t* in2_data, const Shape4& out, int16_t* out_data);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_ELEMENTWISE_H_
