#include "passes/fuse_gelu.h"

#include <cmath>
#include <memory>
#include <unordered_set>
#include <vector>

#include "ir/graph_edit.h"
#include "passes/pattern_util.h"

namespace fulcrum::passes {
namespace {

using pattern::is_op;
using pattern::is_scalar;
using pattern::only_consumer;
using pattern::other_input;

struct GeluMatch {
  ir::Value* x = nullptr;    // the GELU's input
  ir::Value* out = nullptr;  // the pattern's output, which the Gelu will write
  std::vector<ir::Node*> nodes;
};

// x / sqrt 2 as Div(x, sqrt 2) or Mul(x, 1/sqrt 2): returns x, or nullptr.
ir::Value* scaled_input(const ir::Node* n) {
  if (is_op(n, "Div") && n->inputs.size() == 2 && is_scalar(n->inputs[1], std::sqrt(2.0))) return n->inputs[0];
  if (is_op(n, "Mul") && n->inputs.size() == 2) {
    if (is_scalar(n->inputs[1], std::sqrt(0.5))) return n->inputs[0];
    if (is_scalar(n->inputs[0], std::sqrt(0.5))) return n->inputs[1];
  }
  return nullptr;
}

bool match(const ir::Graph& graph, ir::Node& erf, GeluMatch& m) {
  if (!is_op(&erf, "Erf") || erf.inputs.size() != 1 || erf.inputs[0] == nullptr) return false;
  ir::Node* scale = erf.inputs[0]->producer;
  if (scale == nullptr || only_consumer(graph, erf.inputs[0]) != &erf) return false;
  ir::Value* x = scaled_input(scale);
  if (x == nullptr || x->type.dtype != DType::kFloat32) return false;
  ir::Node* add = only_consumer(graph, erf.outputs[0]);
  if (!is_op(add, "Add") || !is_scalar(other_input(*add, erf.outputs[0]), 1.0)) return false;
  ir::Node* mul = only_consumer(graph, add->outputs[0]);
  if (!is_op(mul, "Mul")) return false;
  ir::Value* factor = other_input(*mul, add->outputs[0]);
  if (factor == nullptr) return false;
  if (factor == x) {  // (x * (1 + erf)) * 0.5
    ir::Node* half = only_consumer(graph, mul->outputs[0]);
    if (!is_op(half, "Mul") || !is_scalar(other_input(*half, mul->outputs[0]), 0.5)) return false;
    m = {x, half->outputs[0], {scale, &erf, add, mul, half}};
    return true;
  }
  // (x * 0.5) * (1 + erf)
  ir::Node* half = factor->producer;
  if (!is_op(half, "Mul") || only_consumer(graph, factor) != mul || !is_scalar(other_input(*half, x), 0.5))
    return false;
  m = {x, mul->outputs[0], {scale, &erf, add, half, mul}};
  return true;
}

}  // namespace

Result<bool> FuseGelu::run(ir::Graph& graph, PassContext& ctx) {
  std::vector<GeluMatch> matches;
  std::unordered_set<const ir::Node*> taken;
  for (const auto& n : graph.nodes()) {
    GeluMatch m;
    if (!match(graph, *n, m)) continue;
    bool overlaps = false;
    for (const ir::Node* p : m.nodes) overlaps = overlaps || taken.count(p) > 0;
    if (overlaps) continue;
    taken.insert(m.nodes.begin(), m.nodes.end());
    matches.push_back(std::move(m));
  }
  if (matches.empty()) return false;
  for (GeluMatch& m : matches) {
    const ir::Node& erf = *m.nodes[1];
    auto gelu = std::make_unique<ir::Node>();
    gelu->name = erf.name;
    gelu->op_type = "Gelu";
    gelu->domain = "fulcrum";
    gelu->opset = 1;
    gelu->inputs = {m.x};
    // The Gelu writes the pattern's output; its old producer lets go of it.
    m.out->producer->outputs[0] = nullptr;
    gelu->outputs = {m.out};
    FULCRUM_RETURN_IF_ERROR(gelu->parse_attributes());
    m.out->producer = graph.add_node(std::move(gelu));
  }
  FULCRUM_RETURN_IF_ERROR(ir::remove_nodes_if(graph, [&](const ir::Node& n) { return taken.count(&n) > 0; }).status());
  FULCRUM_RETURN_IF_ERROR(graph.sort_topologically());
  ctx.count(name(), "gelus fused", static_cast<int64_t>(matches.size()));
  return true;
}

}  // namespace fulcrum::passes
