// Whether a layer may run in FP16, decided without data, per layer, the way TensorRT users
// reason about it: matrix products, convolutions, pooling, activations and data movement are
// safe when their constant weights fit FP16; sums over many elements (reductions,
// normalizations), exponentials and divisions by tensors overflow FP16 or lose its small
// terms, so they stay FP32. Ops without a rule stay FP32.
//
// On a CPU without FP16 arithmetic nothing is computed in FP16: "safe" means that rounding
// the layer's weights, inputs and outputs to FP16 (what a GPU's FP16 engine stores) does not
// destroy its accuracy. The rules are the table in fp16_safety.cc.
#pragma once

#include <cstddef>
#include <string>

#include "ir/graph.h"

namespace fulcrum::passes {

struct Fp16Verdict {
  bool safe = false;
  std::string reason;  // why, with the numbers ("weight 'w': 3 values beyond FP16's 65504 (max |w| 7e+04)")
};

// The verdict for `node` of `graph`: its op's rule, its constant weights, and whether its
// output is a parameter of another node (a Resize's scales) rather than data.
Fp16Verdict fp16_verdict(const ir::Graph& graph, const ir::Node& node);

// Whether input `i` of `node` is tensor data that an FP16 layer holds in FP16 (a weight, a
// bias, an activation), as opposed to a parameter the op reads as a number (a Resize's
// scales, a Dropout's ratio), which keeps full precision. Integer inputs are never data here.
bool is_fp16_data_input(const ir::Node& node, size_t i);

// What FP16 does to a weight: how many of its values exceed FP16's range, and how many of its
// nonzero values fall below FP16's normal range (2^-14), where precision fades to zero, with
// the share of the weight's magnitude they hold.
struct Fp16WeightStats {
  int64_t count = 0;
  int64_t nonzero = 0;
  int64_t overflow = 0;   // |w| > 65504 (or NaN): does not fit
  int64_t subnormal = 0;  // 0 < |w| < 2^-14: fewer than 11 significant bits, or zero
  float max_abs = 0;
  double abs_sum = 0;            // sum of |w|
  double subnormal_abs_sum = 0;  // sum of |w| over the subnormal-range values
};
Fp16WeightStats fp16_weight_stats(const float* w, size_t n);

}  // namespace fulcrum::passes
