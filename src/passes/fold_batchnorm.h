// Folds an inference BatchNormalization into the Conv that feeds it (scaled weights, new bias) when the Conv output
// feeds nothing else.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class FoldBatchNorm : public Pass {
 public:
  std::string_view name() const override { return "fold_batchnorm"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
