// Fuses layer normalisation as exported before opset 17 into one LayerNormalization node
// (an opset-17 op; the fused node carries opset 17 whatever the model's opset):
//
//   mean = ReduceMean(x, axes=[-1])        d = Sub(x, mean)
//   var  = ReduceMean(Pow(d, 2) | Mul(d, d), axes=[-1])
//   y    = Add(Mul(Div(d, Sqrt(Add(var, eps))), gamma), beta)
//
// gamma and beta must be 1-D float32 constants as long as x's last axis where that is
// known (either operand order of Mul and Add);
// the reduction must be over the last axis only, with keepdims. Every intermediate feeds
// only the pattern (d feeds exactly the variance and the Div). The LayerNormalization
// writes y and takes the first ReduceMean's name.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class FuseLayerNorm : public Pass {
 public:
  std::string_view name() const override { return "fuse_layer_norm"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
