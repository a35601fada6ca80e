// Folds the element-wise tail of a Conv, Gemm or MatMul into it: one rule, driven by the
// kEpilogueFusable trait, that grows a fulcrum.FusedConv / fulcrum.FusedMatMul (ops/fused.h)
// by one post-op at a time while its output has a single fusable reader:
//   - a unary fusable op (Relu, Clip with constant bounds, LeakyRelu, Sigmoid, HardSwish,
//     Tanh, Elu, fulcrum.Gelu, ...);
//   - SiLU written as Sigmoid(x) and Mul(x, sigmoid(x)), as one fulcrum.Silu post-op;
//   - a binary fusable op (a bias or residual Add, PRelu) whose other operand does not
//     broadcast the output beyond the anchor's shape; the operand becomes an extra input.
// The fused node keeps the anchor's name and writes the last post-op's output tensor, so
// graph outputs and layer names stay as the model has them.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class FuseEpilogue : public Pass {
 public:
  std::string_view name() const override { return "fuse_epilogue"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
