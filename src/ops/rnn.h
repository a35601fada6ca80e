// Recurrent ops: RNN, GRU and LSTM (opsets 7 and 14; opset 14 added `layout`).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

enum class RnnDirection { kForward, kReverse, kBidirectional };

// The activation functions the recurrent ops accept by name.
enum class RnnActivationKind {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,           // alpha * x + beta
  kLeakyRelu,        // x < 0 ? alpha * x : x
  kThresholdedRelu,  // x > alpha ? x : 0
  kScaledTanh,       // alpha * tanh(beta * x)
  kHardSigmoid,      // clamp(alpha * x + beta, 0, 1)
  kElu,              // x < 0 ? alpha * (exp(x) - 1) : x
  kSoftsign,         // x / (1 + |x|)
  kSoftplus          // log(1 + exp(x))
};

// One activation with its alpha and beta resolved (given, or the ONNX op's default).
struct RnnActivation {
  RnnActivationKind kind = RnnActivationKind::kTanh;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// Attributes every recurrent op shares.
struct RecurrentAttrs : OpAttrs {
  // 0: not given, taken from R's shape. ONNX does not mark it required.
  int64_t hidden_size = 0;
  RnnDirection direction = RnnDirection::kForward;
  // The activations of each direction in turn, forward's first: 1 per direction for RNN
  // (f), 2 for GRU (f, g), 3 for LSTM (f, g, h).
  std::vector<RnnActivation> activations;
  // Bounds every activation's input to [-clip, clip]; nullopt: no clipping.
  std::optional<float> clip;
  // Opset 14 layout=1: X, Y, initial_h/c and Y_h/c have the batch axis first.
  bool batch_first = false;

  int64_t num_directions() const { return direction == RnnDirection::kBidirectional ? 2 : 1; }
  // The activations of direction d (0 forward, 1 reverse of a bidirectional op).
  const RnnActivation* activations_of(int64_t d) const {
    return activations.data() + d * static_cast<int64_t>(activations.size()) / num_directions();
  }
};

using RnnAttrs = RecurrentAttrs;

struct GruAttrs : RecurrentAttrs {
  // Apply the hidden gate's recurrent weights (and bias) before multiplying by the reset gate.
  bool linear_before_reset = false;
};

struct LstmAttrs : RecurrentAttrs {
  // Couple the forget gate to the input gate, f = 1 - i (as onnxruntime does; the spec only
  // says the gates are coupled).
  bool input_forget = false;
};

}  // namespace fulcrum::ops
