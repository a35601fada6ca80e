#include "passes/fold_batchnorm.h"

#include <cmath>
#include <unordered_set>

#include "ir/graph_edit.h"
#include "ops/conv.h"
#include "ops/normalization.h"

namespace fulcrum::passes {
namespace {

bool is_f32_constant(const ir::Value* v) {
  return v != nullptr && v->is_constant() && v->constant.dtype() == DType::kFloat32;
}

// A Conv with constant fp32 weights (and bias, if any) whose only reader is `bn`, and a BN
// in inference mode with constant per-channel parameters matching the conv's channels.
bool can_fold(const ir::Graph& graph, const ir::Node& bn, ir::Node*& conv_out) {
  if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || !bn.typed_attrs || bn.inputs.size() < 5) return false;
  const auto& a = bn.attrs_as<ops::BatchNormAttrs>();
  if (a.training_mode || !a.spatial) return false;
  for (size_t i = 1; i < bn.outputs.size(); ++i)
    if (bn.outputs[i] != nullptr) return false;  // opsets 7-13: extra outputs mean training
  const ir::Value* x = bn.inputs[0];
  if (x == nullptr || x->producer == nullptr || bn.outputs.empty() || bn.outputs[0] == nullptr) return false;
  ir::Node& conv = *x->producer;
  if (!conv.domain.empty() || conv.op_type != "Conv" || !conv.typed_attrs || conv.outputs.size() != 1) return false;
  if (ir::is_graph_output(graph, x) || ir::consumers(graph, x).size() != 1) return false;
  if (conv.inputs.size() < 2 || !is_f32_constant(conv.inputs[1])) return false;
  const Tensor& w = conv.inputs[1]->constant;
  if (w.rank() < 3) return false;
  const int64_t channels = w.dim(0);
  if (conv.inputs.size() > 2 && conv.inputs[2] != nullptr &&
      (!is_f32_constant(conv.inputs[2]) || conv.inputs[2]->constant.numel() != channels))
    return false;
  for (size_t i = 1; i < 5; ++i)
    if (!is_f32_constant(bn.inputs[i]) || bn.inputs[i]->constant.numel() != channels) return false;
  conv_out = &conv;
  return true;
}

Result<ir::Value*> add_constant(ir::Graph& graph, const std::string& base, Tensor t) {
  FULCRUM_ASSIGN_OR_RETURN(ir::Value * v, graph.add_value(ir::unique_value_name(graph, base)));
  v->type.dtype = t.dtype();
  std::vector<ir::Dim> dims;
  for (int64_t d : t.shape()) dims.push_back(ir::Dim{d, {}});
  v->type.dims = std::move(dims);
  v->constant = std::move(t);
  return v;
}

// y = (conv(x, W) + b - mean) * s + beta with s = gamma / sqrt(var + eps) equals
// conv(x, W * s) + (b - mean) * s + beta. New tensors: the old ones may be shared.
Status fold(ir::Graph& graph, ir::Node& conv, ir::Node& bn) {
  const float eps = bn.attrs_as<ops::BatchNormAttrs>().epsilon;
  const float* gamma = bn.inputs[1]->constant.data<float>();
  const float* beta = bn.inputs[2]->constant.data<float>();
  const float* mean = bn.inputs[3]->constant.data<float>();
  const float* var = bn.inputs[4]->constant.data<float>();
  const Tensor& w = conv.inputs[1]->constant;
  const int64_t channels = w.dim(0), per_channel = w.numel() / channels;
  const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] != nullptr;
  Tensor new_w = Tensor::zeros(DType::kFloat32, w.shape());
  Tensor new_b = Tensor::zeros(DType::kFloat32, {channels});
  const float* src = w.data<float>();
  float* dst = new_w.mutable_data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const double s = static_cast<double>(gamma[c]) / std::sqrt(static_cast<double>(var[c]) + eps);
    for (int64_t i = 0; i < per_channel; ++i)
      dst[c * per_channel + i] = static_cast<float>(src[c * per_channel + i] * s);
    const double b = has_bias ? conv.inputs[2]->constant.data<float>()[c] : 0.0;
    new_b.mutable_data<float>()[c] = static_cast<float>((b - mean[c]) * s + beta[c]);
  }
  FULCRUM_ASSIGN_OR_RETURN(ir::Value * wv, add_constant(graph, conv.inputs[1]->name() + "_bnfold", std::move(new_w)));
  const std::string bias_base = has_bias ? conv.inputs[2]->name() : conv.name + "_bias";
  FULCRUM_ASSIGN_OR_RETURN(ir::Value * bv, add_constant(graph, bias_base + "_bnfold", std::move(new_b)));
  conv.inputs.resize(3);
  conv.inputs[1] = wv;
  conv.inputs[2] = bv;
  // The conv now writes the BN's output tensor directly, so its name (maybe a graph output) stays.
  ir::Value* y = bn.outputs[0];
  conv.outputs[0]->producer = nullptr;
  conv.outputs[0] = y;
  y->producer = &conv;
  bn.outputs[0] = nullptr;
  bn.inputs.clear();
  return Status::ok();
}

}  // namespace

Result<bool> FoldBatchNorm::run(ir::Graph& graph, PassContext& ctx) {
  std::unordered_set<const ir::Node*> folded;
  for (const auto& n : graph.nodes()) {
    ir::Node* conv = nullptr;
    if (!can_fold(graph, *n, conv)) continue;
    FULCRUM_RETURN_IF_ERROR(fold(graph, *conv, *n));
    folded.insert(n.get());
  }
  if (folded.empty()) return false;
  FULCRUM_RETURN_IF_ERROR(ir::remove_nodes_if(graph, [&](const ir::Node& n) { return folded.count(&n) > 0; }).status());
  ctx.count(name(), "batchnorms folded", static_cast<int64_t>(folded.size()));
  return true;
}

}  // namespace fulcrum::passes
