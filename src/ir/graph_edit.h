// Graph mutation helpers for passes. ir::Graph only appends nodes and values, so removal
// rebuilds the graph; the helpers below say when they invalidate Node* / Value* pointers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::ir {

// A deep copy of the graph structure. Constants share storage with the original (Tensor
// copies are cheap and constants are never written), so a clone costs no weight memory.
std::unique_ptr<Graph> clone(const Graph& graph);

// The nodes that read `value`, in graph order (a node reading it twice appears once).
std::vector<Node*> consumers(const Graph& graph, const Value* value);

// True when `value` is one of the graph's outputs.
bool is_graph_output(const Graph& graph, const Value* value);

// A name not yet used in the graph, derived from `base` ("base", "base_1", ...).
std::string unique_value_name(const Graph& graph, const std::string& base);

// Makes every reader of `from` read `to` instead, so `from`'s producer can be removed.
// Graph outputs keep their names: when `from` is a graph output, `to`'s producer is
// rewired to write `from` (and `to`'s readers read `from`), or, for a constant `to`, `from`
// becomes that constant; `from`'s old producer then writes a fresh unused value. Returns
// false, changing nothing, when that is impossible: `from` is a graph output and `to` is a
// graph input or another graph output. Node and Value pointers stay valid.
Result<bool> replace_all_uses(Graph& graph, Value* from, Value* to);

// Rebuilds the graph without the nodes for which `pred` is true, and without values that
// nothing references any more (unused constants included; graph inputs are kept). Returns
// how many nodes and values were dropped. Invalidates every Node* and Value* of the graph.
struct RemovedCounts {
  size_t nodes = 0;
  size_t values = 0;
};
Result<RemovedCounts> remove_nodes_if(Graph& graph, const std::function<bool(const Node&)>& pred);

// Removes nodes none of whose outputs reaches a graph output (transitively), then unused
// values. Invalidates every Node* and Value* of the graph.
Result<RemovedCounts> remove_dead_nodes(Graph& graph);

}  // namespace fulcrum::ir
