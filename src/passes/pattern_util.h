// Small matchers shared by the fusion passes that recognise exported subgraphs.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"
#include "ir/graph_edit.h"

namespace fulcrum::passes::pattern {

// A node of the default domain with this op type, parsed attributes and one output.
inline bool is_op(const ir::Node* n, std::string_view op_type) {
  return n != nullptr && n->domain.empty() && n->op_type == op_type && n->typed_attrs != nullptr &&
         n->outputs.size() == 1 && n->outputs[0] != nullptr;
}

// The value is a float32 constant with a single element within `tol` (relative) of `want`.
inline bool is_scalar(const ir::Value* v, double want, double tol = 1e-4) {
  if (v == nullptr || !v->is_constant() || v->constant.dtype() != DType::kFloat32 || v->constant.numel() != 1)
    return false;
  return std::fabs(double(v->constant.data<float>()[0]) - want) <= tol * std::fabs(want);
}

// The value feeds exactly one node, and is not a graph output: the pattern may consume it.
inline bool single_use(const ir::Graph& graph, const ir::Value* v) {
  return v != nullptr && !ir::is_graph_output(graph, v) && ir::consumers(graph, v).size() == 1;
}

// The one consumer of `v` when single_use(v), else nullptr.
inline ir::Node* only_consumer(const ir::Graph& graph, const ir::Value* v) {
  return single_use(graph, v) ? ir::consumers(graph, v)[0] : nullptr;
}

// For a binary node with `v` as one input, the other input (nullptr if v is neither).
inline ir::Value* other_input(const ir::Node& n, const ir::Value* v) {
  if (n.inputs.size() != 2) return nullptr;
  if (n.inputs[0] == v) return n.inputs[1];
  if (n.inputs[1] == v) return n.inputs[0];
  return nullptr;
}

// Every match of `match(graph, node, m)` (a Match has `nodes`, the nodes it replaces, and
// `out`, the value its replacement writes) whose nodes no earlier match took, in graph order.
template <class Match, class MatchFn>
std::vector<Match> disjoint_matches(const ir::Graph& graph, MatchFn match) {
  std::vector<Match> matches;
  std::unordered_set<const ir::Node*> taken;
  for (const auto& n : graph.nodes()) {
    Match m;
    if (!match(graph, *n, m)) continue;
    if (std::any_of(m.nodes.begin(), m.nodes.end(), [&](const ir::Node* p) { return taken.count(p) > 0; })) continue;
    taken.insert(m.nodes.begin(), m.nodes.end());
    matches.push_back(std::move(m));
  }
  return matches;
}

// Replaces each match by the node `make(m)` returns (inputs and attributes set), which takes
// over writing m.out; then drops the matched nodes and restores topological order.
template <class Match, class MakeFn>
Status replace_matches(ir::Graph& graph, std::vector<Match>& matches, MakeFn make) {
  std::unordered_set<const ir::Node*> replaced;
  for (Match& m : matches) {
    replaced.insert(m.nodes.begin(), m.nodes.end());
    std::unique_ptr<ir::Node> node = make(m);
    m.out->producer->outputs[0] = nullptr;  // its old producer lets go of it
    node->outputs = {m.out};
    FULCRUM_RETURN_IF_ERROR(node->parse_attributes());
    m.out->producer = graph.add_node(std::move(node));
  }
  FULCRUM_RETURN_IF_ERROR(
      ir::remove_nodes_if(graph, [&](const ir::Node& n) { return replaced.count(&n) > 0; }).status());
  return graph.sort_topologically();
}

}  // namespace fulcrum::passes::pattern
