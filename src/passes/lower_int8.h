// Rewrites the layers the precision plan put in INT8 into fulcrum.QConv / fulcrum.QMatMul
// (ops/quantized_fused.h), and decides which tensors travel as INT8 between them:
//   - weights are quantized per output channel (scale = max|w| / 127, or the scales a Q/DQ
//     model fixed, graph.weight_scales), stored as int8 constants;
//   - an INT8 layer's output stays INT8 when it has a scale and every reader is an INT8 layer
//     of the same family taking it as its activation (or, for convolutions, as the residual
//     operand); it is uint8 when the layer ends in a ReLU. Otherwise it is dequantized to
//     float32 inside the layer (the precision boundary costs no extra pass over memory);
//   - INT8 tensors between convolutions are NHWC (what oneDNN's INT8 kernels want); float
//     tensors stay NCHW, so the blocked-layout pass still sees NCHW at the boundaries.
// Run after plan_precision, before the CPU layout passes.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class LowerInt8 : public Pass {
 public:
  std::string_view name() const override { return "lower_int8"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
