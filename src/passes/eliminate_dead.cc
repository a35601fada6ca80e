#include "passes/eliminate_dead.h"

#include "ir/graph_edit.h"

namespace fulcrum::passes {

Result<bool> EliminateDead::run(ir::Graph& graph, PassContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(ir::RemovedCounts removed, ir::remove_dead_nodes(graph));
  ctx.count(name(), "nodes removed", static_cast<int64_t>(removed.nodes));
  ctx.count(name(), "tensors removed", static_cast<int64_t>(removed.values));
  return removed.nodes > 0 || removed.values > 0;
}

}  // namespace fulcrum::passes
