#include "passes/fold_constants.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "backends/backend.h"
#include "backends/kernel_context.h"
#include "backends/reference/util.h"
#include "ir/graph_edit.h"
#include "ops/tensor.h"

namespace fulcrum::passes {
namespace {

// Ops whose result is not a function of their inputs, or that a later stage wants to see.
bool never_fold(const ir::Node& n) {
  static const std::unordered_set<std::string> kOps = {
      "RandomUniform",
      "RandomNormal",
      "RandomUniformLike",
      "RandomNormalLike",
      "Multinomial",
      "Bernoulli",
      "Dropout",  // eliminate_identity removes the inference ones; training ones are random
      "If",
      "Loop",
      "Scan"};
  if (!n.domain.empty() && n.domain != "ai.onnx") return true;
  if (n.schema == nullptr || n.typed_attrs == nullptr) return true;
  if (n.schema->traits & ops::kQuantization) return true;
  return kOps.count(n.op_type) > 0;
}

bool all_inputs_constant(const ir::Node& n) {
  return std::all_of(n.inputs.begin(), n.inputs.end(), [](const ir::Value* v) { return !v || v->is_constant(); });
}

// The static dims of a value's type, or nullopt if its rank or any dim is unknown.
std::optional<Shape> static_shape(const ir::Value& v) {
  if (!v.type.dims) return std::nullopt;
  Shape shape;
  for (const ir::Dim& d : *v.type.dims) {
    if (!d.is_fixed()) return std::nullopt;
    shape.push_back(d.value);
  }
  return shape;
}

// An upper estimate of the bytes the node would produce, when known before running it, so
// that ConstantOfShape or Expand to a huge shape is never materialised.
std::optional<double> predicted_bytes(const ir::Node& n) {
  if (n.op_type == "ConstantOfShape" && !n.inputs.empty() && n.inputs[0] != nullptr) {
    const Tensor& shape = n.inputs[0]->constant;
    double numel = 1;
    for (int64_t i = 0; i < shape.numel(); ++i)
      numel *= static_cast<double>(std::max<int64_t>(0, backends::reference::read_as_int64(shape, i)));
    return numel * 8;
  }
  double total = 0;
  for (const ir::Value* out : n.outputs) {
    if (out == nullptr) continue;
    auto shape = static_shape(*out);
    if (!shape || out->type.dtype == DType::kUndefined) return std::nullopt;
    total += static_cast<double>(shape_numel(*shape)) * static_cast<double>(dtype_size(out->type.dtype));
  }
  return total;
}

void make_constant(ir::Value& v, Tensor t) {
  v.type.dtype = t.dtype();
  std::vector<ir::Dim> dims;
  for (int64_t d : t.shape()) dims.push_back(ir::Dim{d, {}});
  v.type.dims = std::move(dims);
  v.constant = std::move(t);
  v.producer = nullptr;
}

// Shape / Size of a statically typed tensor: the value follows from the type alone.
std::optional<Tensor> fold_shape_op(const ir::Node& n) {
  if (n.inputs.empty() || n.inputs[0] == nullptr) return std::nullopt;
  auto shape = static_shape(*n.inputs[0]);
  if (!shape) return std::nullopt;
  if (n.op_type == "Size") return Tensor::from_vector<int64_t>(DType::kInt64, {}, {shape_numel(*shape)});
  const auto& a = n.attrs_as<ops::ShapeAttrs>();
  const auto rank = static_cast<int64_t>(shape->size());
  auto clamp = [rank](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank); };
  const int64_t start = clamp(a.start), end = std::max(start, clamp(a.end.value_or(rank)));
  std::vector<int64_t> dims(shape->begin() + start, shape->begin() + end);
  return Tensor::from_vector<int64_t>(DType::kInt64, {end - start}, dims);
}

// Runs `n` on its constant inputs with the reference kernel. nullopt: not folded (no
// kernel, a kernel error the run would report anyway, or a result over the cap).
std::optional<std::vector<Tensor>> evaluate(const ir::Node& n, size_t max_bytes) {
  auto predicted = predicted_bytes(n);
  if (predicted && *predicted > static_cast<double>(max_bytes)) return std::nullopt;
  auto kernel = backends::reference_backend().create(n, backends::KernelConfig{});
  if (!kernel.is_ok() || *kernel == nullptr) return std::nullopt;
  std::vector<const Tensor*> inputs;
  for (const ir::Value* v : n.inputs) inputs.push_back(v ? &v->constant : nullptr);
  std::vector<Tensor> outputs(n.outputs.size());
  backends::KernelContext kctx(n, std::move(inputs), outputs);
  if (!(*kernel)->run(kctx).is_ok()) return std::nullopt;
  size_t total = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] == nullptr) continue;
    if (!outputs[i].defined()) return std::nullopt;
    total += outputs[i].nbytes();
  }
  if (total > max_bytes) return std::nullopt;
  return outputs;
}

}  // namespace

Result<bool> FoldConstants::run(ir::Graph& graph, PassContext& ctx) {
  std::unordered_set<const ir::Node*> folded;
  int64_t shape_folds = 0;
  // Nodes are in topological order, so a fold makes its readers foldable in the same sweep.
  for (const auto& n : graph.nodes()) {
    if (never_fold(*n)) continue;
    std::optional<std::vector<Tensor>> outputs;
    const bool is_shape_op = n->op_type == "Shape" || n->op_type == "Size";
    if (is_shape_op && !all_inputs_constant(*n)) {
      auto t = fold_shape_op(*n);
      if (t) outputs = std::vector<Tensor>{*t};
      shape_folds += t ? 1 : 0;
    } else if (all_inputs_constant(*n)) {
      outputs = evaluate(*n, max_bytes_);
    }
    if (!outputs) continue;
    for (size_t i = 0; i < n->outputs.size(); ++i)
      if (n->outputs[i] != nullptr) make_constant(*n->outputs[i], (*outputs)[i]);
    folded.insert(n.get());
  }
  if (folded.empty()) return false;
  // Each folded node's outputs are now constants in their own right: drop the node (verify
  // rejects a node writing a constant) and any input constant nothing reads any more.
  FULCRUM_RETURN_IF_ERROR(ir::remove_nodes_if(graph, [&](const ir::Node& n) { return folded.count(&n) > 0; }).status());
  ctx.count(name(), "nodes folded", static_cast<int64_t>(folded.size()));
  ctx.count(name(), "shapes folded", shape_folds);
  return true;
}

}  // namespace fulcrum::passes
