#include "ir/graph_edit.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace fulcrum::ir {
namespace {

// Copies `src` into a new graph, keeping only the nodes `keep_node` accepts and the values
// `keep_value` accepts (every value a kept node, input or output references must be kept).
Result<std::unique_ptr<Graph>> rebuild(const Graph& src, const std::function<bool(const Node&)>& keep_node,
                                       const std::function<bool(const Value&)>& keep_value) {
  auto dst = std::make_unique<Graph>();
  dst->name = src.name;
  dst->opsets = src.opsets;
  dst->model_dir = src.model_dir;
  dst->source_path = src.source_path;
  dst->tensor_scales = src.tensor_scales;
  dst->weight_scales = src.weight_scales;
  std::unordered_map<const Value*, Value*> map;
  for (const auto& v : src.values()) {
    if (!keep_value(*v)) continue;
    FULCRUM_ASSIGN_OR_RETURN(Value * copy, dst->add_value(v->name()));
    copy->type = v->type;
    copy->constant = v->constant;
    map[v.get()] = copy;
  }
  auto mapped = [&](const Value* v) -> Result<Value*> {
    if (v == nullptr) return static_cast<Value*>(nullptr);
    auto it = map.find(v);
    if (it == map.end()) return internal_error("graph rebuild: tensor '{}' is referenced but was dropped", v->name());
    return it->second;
  };
  for (const auto& n : src.nodes()) {
    if (!keep_node(*n)) continue;
    auto copy = std::make_unique<Node>(*n);
    for (auto& in : copy->inputs) {
      FULCRUM_ASSIGN_OR_RETURN(in, mapped(in));
    }
    for (auto& out : copy->outputs) {
      FULCRUM_ASSIGN_OR_RETURN(out, mapped(out));
    }
    Node* added = dst->add_node(std::move(copy));
    for (Value* out : added->outputs)
      if (out != nullptr) out->producer = added;
  }
  for (const Value* v : src.inputs) {
    FULCRUM_ASSIGN_OR_RETURN(Value * in, mapped(v));
    dst->inputs.push_back(in);
  }
  for (const Value* v : src.outputs) {
    FULCRUM_ASSIGN_OR_RETURN(Value * out, mapped(v));
    dst->outputs.push_back(out);
  }
  return dst;
}

void replace_inputs(Graph& graph, const Value* from, Value* to) {
  for (const auto& n : graph.nodes())
    for (Value*& in : n->inputs)
      if (in == from) in = to;
}

// Gives `node`'s output slot that holds `v` a fresh, unused value instead.
Status detach_output(Graph& graph, Node* node, Value* v) {
  if (node == nullptr) return Status::ok();
  for (Value*& out : node->outputs) {
    if (out != v) continue;
    FULCRUM_ASSIGN_OR_RETURN(Value * fresh, graph.add_value(unique_value_name(graph, v->name() + "_detached")));
    fresh->type = v->type;
    fresh->producer = node;
    out = fresh;
  }
  return Status::ok();
}

}  // namespace

std::unique_ptr<Graph> clone(const Graph& graph) {
  auto copy = rebuild(
      graph, [](const Node&) { return true; }, [](const Value&) { return true; });
  // Every value is kept, so nothing can be missing: failure would be a bug in rebuild.
  return copy.is_ok() ? std::move(copy).value() : nullptr;
}

std::vector<Node*> consumers(const Graph& graph, const Value* value) {
  std::vector<Node*> out;
  if (value == nullptr) return out;
  for (const auto& n : graph.nodes())
    if (std::find(n->inputs.begin(), n->inputs.end(), value) != n->inputs.end()) out.push_back(n.get());
  return out;
}

bool is_graph_output(const Graph& graph, const Value* value) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), value) != graph.outputs.end();
}

std::string unique_value_name(const Graph& graph, const std::string& base) {
  if (graph.find_value(base) == nullptr) return base;
  for (size_t i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (graph.find_value(name) == nullptr) return name;
  }
}

Result<bool> replace_all_uses(Graph& graph, Value* from, Value* to) {
  if (from == nullptr || to == nullptr) return internal_error("replace_all_uses: null tensor");
  if (from == to) return true;
  if (!is_graph_output(graph, from)) {
    replace_inputs(graph, from, to);
    return true;
  }
  const bool to_is_input = std::find(graph.inputs.begin(), graph.inputs.end(), to) != graph.inputs.end();
  if (to_is_input || is_graph_output(graph, to)) return false;
  // `from` must survive under its name: it takes over `to`'s role.
  Node* old_producer = from->producer;
  FULCRUM_RETURN_IF_ERROR(detach_output(graph, old_producer, from));
  if (to->is_constant()) {
    from->constant = to->constant;
    from->producer = nullptr;
  } else {
    Node* producer = to->producer;
    if (producer == nullptr) return internal_error("replace_all_uses: tensor '{}' has no producer", to->name());
    for (Value*& out : producer->outputs)
      if (out == to) out = from;
    from->producer = producer;
    to->producer = nullptr;
  }
  if (!from->type.dims && to->type.dims) from->type.dims = to->type.dims;
  if (from->type.dtype == DType::kUndefined) from->type.dtype = to->type.dtype;
  replace_inputs(graph, to, from);
  return true;
}

Result<RemovedCounts> remove_nodes_if(Graph& graph, const std::function<bool(const Node&)>& pred) {
  std::unordered_set<const Value*> referenced(graph.inputs.begin(), graph.inputs.end());
  referenced.insert(graph.outputs.begin(), graph.outputs.end());
  RemovedCounts counts;
  for (const auto& n : graph.nodes()) {
    if (pred(*n)) {
      ++counts.nodes;
      continue;
    }
    referenced.insert(n->inputs.begin(), n->inputs.end());
    referenced.insert(n->outputs.begin(), n->outputs.end());
  }
  for (const auto& v : graph.values())
    if (!referenced.count(v.get())) ++counts.values;
  if (counts.nodes == 0 && counts.values == 0) return counts;
  FULCRUM_ASSIGN_OR_RETURN(auto rebuilt, rebuild(
                                             graph, [&](const Node& n) { return !pred(n); },
                                             [&](const Value& v) { return referenced.count(&v) > 0; }));
  graph = std::move(*rebuilt);
  return counts;
}

Result<RemovedCounts> remove_dead_nodes(Graph& graph) {
  FULCRUM_RETURN_IF_ERROR(graph.sort_topologically());
  std::unordered_set<const Value*> needed(graph.outputs.begin(), graph.outputs.end());
  std::unordered_set<const Node*> live;
  // Nodes are topologically ordered, so one backward sweep sees every reader before its producer.
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const Node& n = **it;
    bool is_live = std::any_of(n.outputs.begin(), n.outputs.end(),
                               [&](const Value* v) { return v != nullptr && needed.count(v) > 0; });
    if (!is_live) continue;
    live.insert(&n);
    needed.insert(n.inputs.begin(), n.inputs.end());
  }
  return remove_nodes_if(graph, [&](const Node& n) { return !live.count(&n); });
}

}  // namespace fulcrum::ir
