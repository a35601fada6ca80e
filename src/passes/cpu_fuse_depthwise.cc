#include "passes/cpu_fuse_depthwise.h"

#include <algorithm>
#include <memory>

#include "ir/graph_edit.h"
#include "ops/fused.h"
#include "passes/pattern_util.h"

namespace fulcrum::passes {
namespace {

constexpr int64_t kMinExpandedBytes = int64_t{1} << 20;

struct Match {
  ir::Node* pointwise = nullptr;
  ir::Node* depthwise = nullptr;
  ir::Value* out = nullptr;
  std::vector<ir::Node*> nodes;
};

// A float32 FP32 FusedConv with constant 4-D weights, blocked in and out, unary post-ops.
const ops::FusedConvAttrs* blocked_fused_conv(const ir::Node* n) {
  if (n == nullptr || n->domain != ops::kFulcrumDomain || n->op_type != "FusedConv" || n->typed_attrs == nullptr)
    return nullptr;
  if (n->precision != Precision::kFp32 || n->inputs.size() != ops::kFusedAnchorInputs || n->outputs.size() != 1)
    return nullptr;
  const ir::Value* w = n->inputs[1];
  if (w == nullptr || !w->is_constant() || w->constant.dtype() != DType::kFloat32 || w->constant.rank() != 4)
    return nullptr;
  const auto& a = n->attrs_as<ops::FusedConvAttrs>();
  if (a.src_layout == ops::Layout::kNchw || a.dst_layout == ops::Layout::kNchw) return nullptr;
  for (const ops::PostOp& op : a.epilogue.post_ops)
    if (op.input >= 0) return nullptr;
  return &a;
}

bool all_equal(const std::vector<int64_t>& v, int64_t want) {
  return std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == want; });
}

bool is_pointwise(const ir::Node& n, const ops::FusedConvAttrs& a) {
  const Tensor& w = n.inputs[1]->constant;
  return a.group == 1 && w.dim(2) == 1 && w.dim(3) == 1 && all_equal(a.strides, 1) && all_equal(a.pads, 0) &&
         all_equal(a.dilations, 1);
}

// oneDNN's depthwise post-op: a 3x3 depthwise conv, stride 1 or 2, padding 1.
bool is_fusable_depthwise(const ir::Node& n, const ops::FusedConvAttrs& a) {
  const Tensor& w = n.inputs[1]->constant;
  const int64_t stride = a.strides.empty() ? 1 : a.strides[0];
  return w.dim(0) == a.group && w.dim(1) == 1 && w.dim(2) == 3 && w.dim(3) == 3 && all_equal(a.strides, stride) &&
         (stride == 1 || stride == 2) && a.pads.size() == 4 && all_equal(a.pads, 1) && all_equal(a.dilations, 1) &&
         a.auto_pad == ops::AutoPad::kNotSet;
}

// The bytes per image of a blocked [N, C/b, H, W, b] value with fixed C, H, W; 0 otherwise.
int64_t bytes_per_image(const ir::Value& v) {
  if (!v.type.dims || v.type.dims->size() != 5) return 0;
  int64_t elems = 1;
  for (size_t i = 1; i < 5; ++i) {
    if (!(*v.type.dims)[i].is_fixed()) return 0;
    elems *= (*v.type.dims)[i].value;
  }
  return elems * 4;
}

bool match(const ir::Graph& graph, ir::Node& pw, Match& m) {
  const ops::FusedConvAttrs* p = blocked_fused_conv(&pw);
  if (p == nullptr || !is_pointwise(pw, *p)) return false;
  ir::Value* expanded = pw.outputs[0];
  ir::Node* dw = pattern::only_consumer(graph, expanded);
  const ops::FusedConvAttrs* d = blocked_fused_conv(dw);
  if (d == nullptr || dw->inputs[0] != expanded || !is_fusable_depthwise(*dw, *d)) return false;
  if (dw->inputs[1]->constant.dim(0) != pw.inputs[1]->constant.dim(0) || p->dst_layout != d->src_layout) return false;
  if (bytes_per_image(*expanded) < kMinExpandedBytes) return false;
  m = {&pw, dw, dw->outputs[0], {&pw, dw}};
  return true;
}

}  // namespace

Result<bool> CpuFuseDepthwise::run(ir::Graph& graph, PassContext& ctx) {
  std::vector<Match> matches = pattern::disjoint_matches<Match>(graph, match);
  if (matches.empty()) return false;
  FULCRUM_RETURN_IF_ERROR(pattern::replace_matches(graph, matches, [](const Match& m) {
    auto node = std::make_unique<ir::Node>();
    node->name = m.pointwise->name;
    node->op_type = "FusedConvDepthwise";
    node->domain = ops::kFulcrumDomain;
    node->opset = 1;
    node->inputs = {m.pointwise->inputs[0], m.pointwise->inputs[1], m.pointwise->inputs[2], m.depthwise->inputs[1],
                    m.depthwise->inputs[2]};
    node->attrs = ops::conv_depthwise_attrs(m.pointwise->attrs, m.depthwise->attrs);
    node->precision = Precision::kFp32;
    node->precision_reason = m.pointwise->precision_reason;
    return node;
  }));
  ctx.count(name(), "pointwise + depthwise pairs fused", static_cast<int64_t>(matches.size()));
  return true;
}

}  // namespace fulcrum::passes
