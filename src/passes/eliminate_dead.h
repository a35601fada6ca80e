// Removes nodes whose outputs reach no graph output, and constants nothing reads.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class EliminateDead : public Pass {
 public:
  std::string_view name() const override { return "eliminate_dead"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
