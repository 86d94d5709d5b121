// UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's integer scheme: int8 input, hidden state and output, int8 weights, int32
// biases, int16 cell state (a power-of-two scale) and int16 gates (Q3.12 in, Q0.15 out of the activations).
// No peephole, projection or layer normalization (TFLM refuses those too).
#ifndef QBUILD_KERNELS_LSTM_H_
#define QBUILD_KERNELS_LSTM_H_

#include "common.h"

namespace qbuild {
namespace kernels {

// Gate order of the op's tensors: input, forget, cell, output.
constexpr int32_t kLstmGates = 4;

struct LstmParams {
  int32_t batches;
  int32_t time_steps;
  int32_t input_size;
  int32_t state_size;
  int32_t time_major;
  int32_t input_offset;   // -input zero point
  int32_t hidden_offset;  // -hidden state zero point
  int32_t hidden_zero_point;
  int32_t input_multiplier[kLstmGates];  // input FC -> Q3.12 gate input
  int32_t input_shift[kLstmGates];
  int32_t recurrent_multiplier[kLstmGates];  // recurrent FC -> Q3.12
  int32_t recurrent_shift[kLstmGates];
  int32_t forget_multiplier;  // forget gate (Q0.15) x cell -> cell
  int32_t forget_shift;
  int32_t input_mul_multiplier;  // input gate x cell gate (both Q0.15) -> cell
  int32_t input_mul_shift;
  int32_t hidden_multiplier;  // output gate x tanh(cell) (both Q0.15) -> hidden state (int8)
  int32_t hidden_shift;
  int32_t tanh_multiplier;  // cell state -> tanh input (TFLM's Tanh(cell_state_scale_power) arguments)
  int32_t tanh_shift;
  int32_t cell_clip;        // quantized; 0 = no clipping
  int32_t cell_gate_tanh;   // 1: cell gate tanh, 0: sigmoid
};

struct LstmQuant {
  QuantInfo input;
  QuantInfo hidden;  // the hidden (output) state, also the output's quantization
  float cell_scale;  // must be a power of two
  float input_weight_scales[kLstmGates];
  float recurrent_weight_scales[kLstmGates];
};

// activation: the op's fused activation for the cell gate (TANH or SIGMOID as TFLite's enum: 4 / 6).
Status prepare_lstm(int32_t batches, int32_t time_steps, int32_t input_size, int32_t state_size, bool time_major,
                    int32_t activation, float cell_clip, const LstmQuant& q, LstmParams* params);

// Bytes of int16 scratch eval_lstm needs (TFLM's four gate buffers).
inline int32_t lstm_scratch_bytes(const LstmParams& p) {
  return 4 * 2 * p.state_size * p.batches;  // time-major needs all rows; batch-major the same bound (simple mirror)
}

struct LstmWeights {
  const int8_t* input[kLstmGates];      // {state_size, input_size}
  const int8_t* recurrent[kLstmGates];  // {state_size, state_size}
  const int32_t* bias[kLstmGates];      // {state_size}
};

// hidden (int8) and cell (int16) hold the state across time steps and calls; output gets every step's hidden state.
void eval_lstm(const LstmParams& p, const LstmWeights& w, const int8_t* input, int8_t* hidden, int16_t* cell,
               int8_t* output, int16_t* scratch);

// TFLite's int16 activations on the shared sigmoid table: Q3.12 in (after the caller's scaling), Q0.15 out.
void sigmoid_int16(int32_t size, const int16_t* in, int16_t* out);
void tanh_int16(int32_t multiplier, int32_t left_shift, int32_t size, const int16_t* in, int16_t* out);

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_LSTM_H_
