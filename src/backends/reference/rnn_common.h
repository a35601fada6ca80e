// What RNN, GRU and LSTM share in the reference backend: reading and validating their
// inputs, the activation functions, and the loop over directions, batch entries and time
// steps that drives one op-specific cell step and writes Y, Y_h and Y_c.
//
// Everything is computed in double, one (direction, batch entry) sequence at a time, so a
// cell step reads like the ONNX equations for a single vector x_t.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "backends/reference/kernel.h"
#include "ops/rnn.h"

namespace fulcrum::backends::reference::rnn {

// Input slots shared by all three ops (LSTM adds initial_c and P).
enum InputSlot : size_t { kX = 0, kW, kR, kB, kSequenceLens, kInitialH, kInitialC, kP };

// A recurrent op's inputs as doubles, with X and the initial states in the sequence-first
// layout whatever the op's `layout`. Absent optional inputs are zeros (sequence lengths:
// the full sequence).
struct RecurrentInputs {
  DType dtype = DType::kFloat32;
  int64_t seq_length = 0, batch = 0, input_size = 0, hidden = 0, directions = 1;
  int64_t gates = 1;              // gate blocks stacked in W, R and B: 1 RNN, 3 GRU, 4 LSTM
  std::vector<double> x;          // [seq_length, batch, input_size]
  std::vector<double> w;          // [directions, gates * hidden, input_size]
  std::vector<double> r;          // [directions, gates * hidden, hidden]
  std::vector<double> b;          // [directions, 2 * gates * hidden]: W biases, then R biases
  std::vector<int64_t> lengths;   // [batch]
  std::vector<double> initial_h;  // [directions, batch, hidden]
  std::vector<double> initial_c;  // [directions, batch, hidden]; LSTM only
  std::vector<double> p;          // [directions, 3 * hidden] peepholes (i, o, f); LSTM only

  // Row `row` of direction d's input weights applied to x_t, plus its W bias.
  double input_term(int64_t d, int64_t row, const double* x_t) const;
  // Row `row` of direction d's recurrent weights applied to h, plus its R bias.
  double recurrent_term(int64_t d, int64_t row, const double* h) const;
};

// Reads and validates X, W, R, B, sequence_lens and initial_h (and, for LSTM, initial_c and
// P) for an op with `gates` gate blocks. Errors name the input and the expected shape.
Result<RecurrentInputs> read_inputs(const KernelContext& ctx, const ops::RecurrentAttrs& attrs, int64_t gates,
                                    bool is_lstm);

// act(x), x first clipped to [-clip, clip] when a clip is set.
double activate(const ops::RnnActivation& act, const std::optional<float>& clip, double x);

// The recurrent state of one sequence: h, and c for LSTM (empty otherwise).
struct CellState {
  std::vector<double> h, c;
};

// Advances `state` by one time step of direction d, whose input vector is x_t.
using CellStep = std::function<void(int64_t d, const double* x_t, CellState& state)>;

// Runs every direction over every batch entry's sequence (reverse direction: from its last
// valid step back to the first), then writes the outputs the node asks for: Y (zero past a
// sequence's length), Y_h and, with_cell, Y_c (zero for an empty sequence).
Status run_recurrence(KernelContext& ctx, const ops::RecurrentAttrs& attrs, const RecurrentInputs& in,
                      const CellStep& step, bool with_cell);

}  // namespace fulcrum::backends::reference::rnn
