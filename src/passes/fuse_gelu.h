// Fuses the erf form of GELU, as PyTorch exports it, into one fulcrum.Gelu node:
//
//   Div(x, sqrt 2) | Mul(x, 1/sqrt 2) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5)
//
// or with the halving first: Mul(Mul(x, 0.5), Erf(...) + 1). The operands of Add and Mul
// may come in either order. Every intermediate must feed only the next node of the
// pattern (and not be a graph output); the Gelu writes the pattern's output tensor and
// takes the Erf node's name.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class FuseGelu : public Pass {
 public:
  std::string_view name() const override { return "fuse_gelu"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
