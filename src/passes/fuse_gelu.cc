#include "passes/fuse_gelu.h"

#include <cmath>
#include <memory>
#include <unordered_set>
#include <vector>

#include "ir/graph_edit.h"
#include "passes/pattern_util.h"

namespace fulcrum::passes {
namespace {

using pattern::disjoint_matches;
using pattern::is_op;
using pattern::is_scalar;
using pattern::only_consumer;
using pattern::other_input;
using pattern::replace_matches;

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
  std::vector<GeluMatch> matches = disjoint_matches<GeluMatch>(graph, match);
  if (matches.empty()) return false;
  FULCRUM_RETURN_IF_ERROR(replace_matches(graph, matches, [](const GeluMatch& m) {
    auto gelu = std::make_unique<ir::Node>();
    gelu->name = m.nodes[1]->name;  // the Erf's
    gelu->op_type = "Gelu";
    gelu->domain = "fulcrum";
    gelu->opset = 1;
    gelu->inputs = {m.x};
    return gelu;
  }));
  ctx.count(name(), "gelus fused", static_cast<int64_t>(matches.size()));
  return true;
}

}  // namespace fulcrum::passes
