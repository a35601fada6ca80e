#include <unordered_set>

#include "core/error.h"
#include "ir/graph.h"

namespace fulcrum::ir {

Status verify(const Graph& graph) {
  std::unordered_set<const Value*> defined;
  for (const Value* v : graph.inputs) {
    if (v->producer != nullptr) return internal_error("graph input '{}' has a producer", v->name());
    defined.insert(v);
  }
  for (const auto& v : graph.values())
    if (v->is_constant()) defined.insert(v.get());

  for (const auto& node : graph.nodes()) {
    for (const Value* in : node->inputs) {
      if (in == nullptr) continue;
      if (!defined.count(in))
        return invalid_argument("{}: input '{}' is used before it is produced (or never is)", node->label(),
                                in->name());
    }
    for (const Value* out : node->outputs) {
      if (out == nullptr) continue;
      if (out->producer != node.get())
        return internal_error("{}: output '{}' names another producer", node->label(), out->name());
      if (out->is_constant())
        return invalid_argument("{}: output '{}' overwrites a constant", node->label(), out->name());
      if (!defined.insert(out).second)
        return invalid_argument("{}: output '{}' is produced twice", node->label(), out->name());
    }
  }
  for (const Value* v : graph.outputs)
    if (!defined.count(v)) return invalid_argument("graph output '{}' is never produced", v->name());
  return Status::ok();
}

}  // namespace fulcrum::ir
