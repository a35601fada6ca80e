// Removes nodes that copy their input: Identity, inference-mode Dropout whose mask is unused, and Cast to the input's
// own dtype.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class EliminateIdentity : public Pass {
 public:
  std::string_view name() const override { return "eliminate_identity"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
