#include "passes/eliminate_identity.h"

#include <unordered_set>

#include "backends/reference/util.h"
#include "ir/graph_edit.h"
#include "ops/elementwise.h"
#include "ops/normalization.h"

namespace fulcrum::passes {
namespace {

bool is_default_domain(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Dropout is the identity at inference unless the model forces training mode (a
// training_mode input that is not a constant false) or reads the mask.
bool is_inference_dropout(const ir::Node& n) {
  if (n.outputs.size() > 1 && n.outputs[1] != nullptr) return false;
  if (n.opset < 7 && n.typed_attrs && !n.attrs_as<ops::DropoutAttrs>().is_test) return false;
  if (n.opset >= 12 && n.inputs.size() > 2 && n.inputs[2] != nullptr) {
    const ir::Value* mode = n.inputs[2];
    if (!mode->is_constant() || mode->constant.numel() != 1) return false;
    if (backends::reference::read_as_int64(mode->constant, 0) != 0) return false;
  }
  return true;
}

bool is_identity(const ir::Node& n) {
  if (!is_default_domain(n) || n.inputs.empty() || n.inputs[0] == nullptr || n.outputs.empty() ||
      n.outputs[0] == nullptr)
    return false;
  if (n.op_type == "Identity") return true;
  if (n.op_type == "Dropout") return is_inference_dropout(n);
  if (n.op_type == "Cast" && n.typed_attrs) {
    const DType from = n.inputs[0]->type.dtype;
    return from != DType::kUndefined && from == n.attrs_as<ops::CastAttrs>().to;
  }
  return false;
}

}  // namespace

Result<bool> EliminateIdentity::run(ir::Graph& graph, PassContext& ctx) {
  std::unordered_set<const ir::Node*> removed;
  for (const auto& n : graph.nodes()) {
    if (!is_identity(*n)) continue;
    // A copy of a graph input into a graph output must stay: both names are part of the model.
    FULCRUM_ASSIGN_OR_RETURN(bool replaced, ir::replace_all_uses(graph, n->outputs[0], n->inputs[0]));
    if (replaced) removed.insert(n.get());
  }
  if (removed.empty()) return false;
  FULCRUM_RETURN_IF_ERROR(
      ir::remove_nodes_if(graph, [&](const ir::Node& n) { return removed.count(&n) > 0; }).status());
  ctx.count(name(), "nodes removed", static_cast<int64_t>(removed.size()));
  return true;
}

}  // namespace fulcrum::passes
