#include <fmt/format.h>

#include "ir/graph.h"

namespace fulcrum::ir {

std::string to_string(const Graph& graph) {
  std::string out = fmt::format("graph '{}'\n", graph.name);
  for (const Value* v : graph.inputs) out += fmt::format("  input  {}: {}\n", v->name(), v->type.to_string());
  size_t const_bytes = 0;
  auto constants = graph.constants();
  for (const Value* v : constants) const_bytes += v->constant.nbytes();
  out += fmt::format("  {} constants, {} bytes\n", constants.size(), const_bytes);
  for (const auto& n : graph.nodes()) {
    std::vector<std::string> ins, outs;
    for (const Value* v : n->inputs) ins.push_back(v ? v->name() : "");
    for (const Value* v : n->outputs) outs.push_back(v ? v->name() : "");
    out += fmt::format("  {} = {}[{}]({})\n", fmt::join(outs, ", "),
                       n->domain.empty() ? n->op_type : n->domain + "." + n->op_type, n->name, fmt::join(ins, ", "));
  }
  for (const Value* v : graph.outputs) out += fmt::format("  output {}: {}\n", v->name(), v->type.to_string());
  return out;
}

}  // namespace fulcrum::ir
