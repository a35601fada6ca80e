// Small matchers shared by the fusion passes that recognise exported subgraphs.
#pragma once

#include <cmath>
#include <string_view>

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

}  // namespace fulcrum::passes::pattern
