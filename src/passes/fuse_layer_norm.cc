#include "passes/fuse_layer_norm.h"

#include <memory>
#include <unordered_set>
#include <vector>

#include "ir/graph_edit.h"
#include "ops/reduce.h"
#include "passes/pattern_util.h"

namespace fulcrum::passes {
namespace {

using pattern::disjoint_matches;
using pattern::is_op;
using pattern::is_scalar;
using pattern::only_consumer;
using pattern::other_input;
using pattern::replace_matches;

struct LayerNormMatch {
  ir::Value* x = nullptr;
  ir::Value* gamma = nullptr;
  ir::Value* beta = nullptr;
  ir::Value* out = nullptr;
  float epsilon = 0;
  std::vector<ir::Node*> nodes;  // the first ReduceMean first
};

// A ReduceMean over the last axis of a tensor of x's shape, keeping dims (a positive axis
// needs x's rank: the intermediates of the pattern may have no declared shape).
bool is_last_axis_mean(const ir::Node* n, const ir::Value* x) {
  if (!is_op(n, "ReduceMean") || n->inputs.empty() || n->inputs[0] == nullptr) return false;
  const auto& a = n->attrs_as<ops::ReduceAttrs>();
  if (a.axes_from_input || !a.keepdims || a.axes.size() != 1) return false;
  if (a.axes[0] == -1) return true;
  return x->type.dims && a.axes[0] == static_cast<int64_t>(x->type.dims->size()) - 1;
}

// A 1-D float32 constant.
bool is_vector(const ir::Value* v) {
  return v != nullptr && v->is_constant() && v->constant.dtype() == DType::kFloat32 && v->constant.rank() == 1;
}

// The consumers of d are exactly the variance's square and the normalising Div.
bool match_from_d(const ir::Graph& graph, ir::Value* d, ir::Node*& square, ir::Node*& div) {
  if (ir::is_graph_output(graph, d)) return false;
  const std::vector<ir::Node*> users = ir::consumers(graph, d);
  if (users.size() != 2) return false;
  square = div = nullptr;
  for (ir::Node* u : users) {
    if (is_op(u, "Div") && u->inputs.size() == 2 && u->inputs[0] == d)
      div = u;
    else if (is_op(u, "Pow") && u->inputs.size() == 2 && u->inputs[0] == d && is_scalar(u->inputs[1], 2.0))
      square = u;
    else if (is_op(u, "Mul") && u->inputs.size() == 2 && u->inputs[0] == d && u->inputs[1] == d)
      square = u;
  }
  return square != nullptr && div != nullptr;
}

bool match(const ir::Graph& graph, ir::Node& mean, LayerNormMatch& m) {
  if (!is_op(&mean, "ReduceMean") || mean.inputs.empty() || mean.inputs[0] == nullptr) return false;
  ir::Value* x = mean.inputs[0];
  if (!is_last_axis_mean(&mean, x)) return false;
  if (x->type.dtype != DType::kFloat32) return false;
  ir::Node* sub = only_consumer(graph, mean.outputs[0]);
  if (!is_op(sub, "Sub") || sub->inputs.size() != 2 || sub->inputs[0] != x || sub->inputs[1] != mean.outputs[0])
    return false;
  ir::Value* d = sub->outputs[0];
  ir::Node *square = nullptr, *div = nullptr;
  if (!match_from_d(graph, d, square, div)) return false;
  ir::Node* var = only_consumer(graph, square->outputs[0]);
  if (!is_last_axis_mean(var, x)) return false;
  ir::Node* add_eps = only_consumer(graph, var->outputs[0]);
  if (!is_op(add_eps, "Add")) return false;
  const ir::Value* eps = other_input(*add_eps, var->outputs[0]);
  if (eps == nullptr || !eps->is_constant() || eps->constant.dtype() != DType::kFloat32 || eps->constant.numel() != 1)
    return false;
  ir::Node* sqrt = only_consumer(graph, add_eps->outputs[0]);
  if (!is_op(sqrt, "Sqrt") || only_consumer(graph, sqrt->outputs[0]) != div || div->inputs[1] != sqrt->outputs[0])
    return false;
  ir::Node* mul = only_consumer(graph, div->outputs[0]);
  if (!is_op(mul, "Mul")) return false;
  ir::Value* gamma = other_input(*mul, div->outputs[0]);
  ir::Node* add = only_consumer(graph, mul->outputs[0]);
  if (!is_vector(gamma) || !is_op(add, "Add")) return false;
  ir::Value* beta = other_input(*add, mul->outputs[0]);
  if (!is_vector(beta) || beta->constant.numel() != gamma->constant.numel()) return false;
  // gamma spans x's last axis (LayerNormalization's Scale is that axis). Where shape
  // inference left that axis unknown, the one valid case the pattern does not cover, an
  // axis of size 1 broadcast against gamma, fails at run time: LayerNormalization's Scale
  // must broadcast to X, not X to Scale.
  const auto& dims = x->type.dims;
  if (dims && (dims->empty() || (dims->back().is_fixed() && dims->back().value != gamma->constant.numel())))
    return false;
  m = {x,
       gamma,
       beta,
       add->outputs[0],
       eps->constant.data<float>()[0],
       {&mean, sub, square, var, add_eps, sqrt, div, mul, add}};
  return true;
}

}  // namespace

Result<bool> FuseLayerNorm::run(ir::Graph& graph, PassContext& ctx) {
  std::vector<LayerNormMatch> matches = disjoint_matches<LayerNormMatch>(graph, match);
  if (matches.empty()) return false;
  FULCRUM_RETURN_IF_ERROR(replace_matches(graph, matches, [](const LayerNormMatch& m) {
    auto ln = std::make_unique<ir::Node>();
    ln->name = m.nodes[0]->name;
    ln->op_type = "LayerNormalization";
    ln->opset = 17;  // the op's first opset, whatever the model's
    ln->inputs = {m.x, m.gamma, m.beta};
    ln->attrs = {{"axis", int64_t{-1}}, {"epsilon", m.epsilon}};
    return ln;
  }));
  ctx.count(name(), "layer norms fused", static_cast<int64_t>(matches.size()));
  return true;
}

}  // namespace fulcrum::passes
