#include "passes/cpu_blocked_layout.h"

#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "ir/graph_edit.h"
#include "ops/fused.h"
#include "ops/layout.h"
#include "ops/pool.h"

namespace fulcrum::passes {
namespace {

using Dims = std::vector<ir::Dim>;

bool is_onnx(const ir::Node& n, const char* op) {
  return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op;
}
bool is_fulcrum(const ir::Node& n, const char* op) { return n.domain == ops::kFulcrumDomain && n.op_type == op; }

// The channels per block of a C-channel tensor when the CPU prefers `preferred`: that, or 8
// where only 8 divides C (oneDNN's AVX2 kernels take nChw8c on an AVX-512 CPU too, and a
// conv between the two blockings reorders far less than an NCHW one would); 0 for neither.
int64_t block_for(int64_t channels, int64_t preferred) {
  if (channels % preferred == 0) return preferred;
  return preferred > 8 && channels % 8 == 0 ? 8 : 0;
}

// The dims of a float32 [N, C, H, W] value with a blockable C and fixed H and W (N may be
// symbolic).
std::optional<Dims> blockable(const ir::Value& v, int64_t preferred) {
  if (v.type.dtype != DType::kFloat32 || !v.type.dims || v.type.dims->size() != 4) return std::nullopt;
  const Dims& d = *v.type.dims;
  for (size_t i = 1; i < 4; ++i)
    if (!d[i].is_fixed() || d[i].value <= 0) return std::nullopt;
  if (block_for(d[1].value, preferred) == 0) return std::nullopt;
  return d;
}

Dims blocked_dims(const Dims& d, int64_t preferred) {
  const int64_t block = block_for(d[1].value, preferred);
  return {d[0], {d[1].value / block, ""}, d[2], d[3], {block, ""}};
}

Result<ops::Layout> layout_of(const Dims& nchw, int64_t preferred) {
  return ops::blocked_layout(block_for(nchw[1].value, preferred));
}

bool same_dims(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].value != b[i].value || (!a[i].is_fixed() && a[i].param != b[i].param)) return false;
  return true;
}

// A 2-D float32 Conv / FusedConv (not laid out yet) with constant weights, plain or
// depthwise: the convolutions oneDNN runs blocked (jit:avx2) on this machine.
bool layout_capable_conv(const ir::Node& n) {
  const bool fused = is_fulcrum(n, "FusedConv");
  if (!(fused || is_onnx(n, "Conv")) || n.typed_attrs == nullptr || n.inputs.size() < 2) return false;
  if (fused) {
    const auto& a = n.attrs_as<ops::FusedConvAttrs>();
    if (a.src_layout != ops::Layout::kNchw || a.dst_layout != ops::Layout::kNchw) return false;
  }
  const ir::Value* w = n.inputs[1];
  if (w == nullptr || !w->is_constant() || w->constant.dtype() != DType::kFloat32 || w->constant.rank() != 4)
    return false;
  const int64_t group = n.attrs_as<ops::ConvAttrs>().group;
  const int64_t in_channels = w->constant.dim(1) * group;
  return group == 1 || (group == in_channels && w->constant.dim(0) == group);
}

bool pool_takes_blocked(const ir::Node& n) {
  if (is_onnx(n, "GlobalAveragePool")) return true;
  if (!is_onnx(n, "MaxPool") && !is_onnx(n, "AveragePool")) return false;
  if (n.outputs.size() > 1 && n.outputs[1] != nullptr) return false;  // MaxPool's indices are NCHW offsets
  return n.attrs_as<ops::PoolAttrs>().kernel_shape.size() == 2;
}

bool scalar_constant(const ir::Value* v) { return v != nullptr && v->is_constant() && v->constant.numel() == 1; }

// How each rewritten node reads and writes blocked tensors.
struct Plan {
  int64_t block = 8;
  std::unordered_map<const ir::Value*, Dims> blocked;  // value -> its NCHW dims
  std::unordered_set<ir::Node*> conv_src, conv_dst, pools, passthrough;
};

void plan_conv(const ir::Graph& graph, ir::Node& n, Plan& p) {
  if (!layout_capable_conv(n)) return;
  if (p.blocked.count(n.inputs[0])) p.conv_src.insert(&n);
  ir::Value* y = n.outputs[0];
  auto dims = blockable(*y, p.block);
  if (!dims || ir::is_graph_output(graph, y)) return;
  p.conv_dst.insert(&n);
  p.blocked.emplace(y, *dims);
}

void plan_other(const ir::Graph& graph, ir::Node& n, Plan& p) {
  if (n.inputs.empty() || n.outputs.empty() || n.outputs[0] == nullptr) return;
  ir::Value* y = n.outputs[0];
  if (pool_takes_blocked(n) && p.blocked.count(n.inputs[0])) {
    if (is_onnx(n, "GlobalAveragePool")) {
      p.pools.insert(&n);
      return;
    }
    auto dims = blockable(*y, p.block);
    if (!dims || ir::is_graph_output(graph, y)) return;
    p.pools.insert(&n);
    p.blocked.emplace(y, *dims);
    return;
  }
  if (n.schema == nullptr || (n.schema->traits & ops::kElementwise) == 0 || n.domain.size() > 0) return;
  if (n.outputs.size() != 1 || ir::is_graph_output(graph, y)) return;
  auto dims = blockable(*y, p.block);
  if (!dims) return;
  bool any_blocked = false;
  for (const ir::Value* in : n.inputs) {
    auto it = p.blocked.find(in);
    if (it != p.blocked.end() && same_dims(it->second, *dims))
      any_blocked = true;
    else if (!scalar_constant(in))
      return;
  }
  if (!any_blocked) return;
  p.passthrough.insert(&n);
  p.blocked.emplace(y, *dims);
}

// A reorder of `v` (NCHW dims `nchw`) to its blocked layout (`preferred` > 0), or (0) from
// blocked to NCHW.
Result<ir::Value*> add_reorder(ir::Graph& graph, ir::Value* v, const Dims& nchw, int64_t preferred) {
  const bool to_blocked = preferred > 0;
  const int64_t block = to_blocked ? block_for(nchw[1].value, preferred) : 0;
  FULCRUM_ASSIGN_OR_RETURN(
      ir::Value * out, graph.add_value(ir::unique_value_name(graph, v->name() + (to_blocked ? "_nChw8c" : "_nchw"))));
  out->type.dtype = DType::kFloat32;
  out->type.dims = to_blocked ? blocked_dims(nchw, preferred) : nchw;
  auto node = std::make_unique<ir::Node>();
  node->name = out->name();
  node->op_type = to_blocked ? "ReorderToBlocked" : "ReorderFromBlocked";
  node->domain = ops::kFulcrumDomain;
  node->opset = 1;
  node->inputs = {v};
  node->outputs = {out};
  if (to_blocked) node->attrs["block"] = block;
  ir::Node* added = graph.add_node(std::move(node));
  out->producer = added;
  FULCRUM_RETURN_IF_ERROR(added->parse_attributes());
  return out;
}

Status rewrite_conv(ir::Graph& graph, ir::Node& n, const Plan& p) {
  if (is_onnx(n, "Conv")) {
    n.op_type = "FusedConv";
    n.domain = ops::kFulcrumDomain;
    n.opset = 1;
    n.inputs.resize(ops::kFusedAnchorInputs, nullptr);
    ops::set_epilogue_attrs({}, n.attrs);
  }
  if (p.conv_src.count(&n)) {
    FULCRUM_ASSIGN_OR_RETURN(ops::Layout src, layout_of(p.blocked.at(n.inputs[0]), p.block));
    n.attrs["src_layout"] = std::string(ops::layout_name(src));
  }
  if (p.conv_dst.count(&n)) {
    const Dims& y = p.blocked.at(n.outputs[0]);
    FULCRUM_ASSIGN_OR_RETURN(ops::Layout dst, layout_of(y, p.block));
    n.attrs["dst_layout"] = std::string(ops::layout_name(dst));
    // A full-shape (residual) operand must be in the destination's layout.
    for (size_t i = ops::kFusedAnchorInputs; i < n.inputs.size(); ++i) {
      ir::Value* o = n.inputs[i];
      if (p.blocked.count(o) || !o->type.dims || !same_dims(*o->type.dims, y)) continue;
      FULCRUM_ASSIGN_OR_RETURN(n.inputs[i], add_reorder(graph, o, y, p.block));
    }
  }
  return n.parse_attributes();
}

Status rewrite_pool(ir::Node& n) {
  ops::Attributes attrs = n.attrs;
  attrs["pool"] = n.op_type;
  attrs["pool_opset"] = n.opset;
  n.attrs = std::move(attrs);
  n.op_type = "BlockedPool";
  n.domain = ops::kFulcrumDomain;
  n.opset = 1;
  return n.parse_attributes();
}

// Whether `reader` takes the blocked `v` in input slot `i` as is.
bool reads_blocked(const ir::Node& reader, size_t i, const ir::Value* v, const Plan& p) {
  ir::Node* r = const_cast<ir::Node*>(&reader);
  if (i == 0 && (p.conv_src.count(r) || p.pools.count(r))) return true;
  if (p.passthrough.count(r)) return true;
  return i >= ops::kFusedAnchorInputs && p.conv_dst.count(r) &&
         same_dims(p.blocked.at(v), p.blocked.at(reader.outputs[0]));
}

bool already_laid_out(const ir::Graph& graph) {
  for (const auto& n : graph.nodes()) {
    if (is_fulcrum(*n, "ReorderToBlocked") || is_fulcrum(*n, "ReorderFromBlocked") || is_fulcrum(*n, "BlockedPool"))
      return true;
    if (is_fulcrum(*n, "FusedConv") && n->typed_attrs &&
        (n->attrs_as<ops::FusedConvAttrs>().src_layout != ops::Layout::kNchw ||
         n->attrs_as<ops::FusedConvAttrs>().dst_layout != ops::Layout::kNchw))
      return true;
  }
  return false;
}

}  // namespace

Result<bool> CpuBlockedLayout::run(ir::Graph& graph, PassContext& ctx) {
  if (already_laid_out(graph)) return false;
  Plan p;
  p.block = block_;
  for (const auto& n : graph.nodes()) {
    plan_conv(graph, *n, p);
    if (!p.conv_dst.count(n.get()) && !p.conv_src.count(n.get())) plan_other(graph, *n, p);
  }
  if (p.blocked.empty()) return false;
  // Readers that take a blocked tensor only as NCHW, found before any rewiring.
  std::vector<std::pair<ir::Node*, size_t>> plain_readers;
  for (const auto& n : graph.nodes())
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (p.blocked.count(n->inputs[i]) && !reads_blocked(*n, i, n->inputs[i], p))
        plain_readers.emplace_back(n.get(), i);
  std::vector<ir::Node*> convs, pools;
  for (const auto& n : graph.nodes()) {
    if (p.conv_src.count(n.get()) || p.conv_dst.count(n.get())) convs.push_back(n.get());
    if (p.pools.count(n.get())) pools.push_back(n.get());
  }
  for (ir::Node* n : convs) FULCRUM_RETURN_IF_ERROR(rewrite_conv(graph, *n, p).with_context(n->label()));
  for (ir::Node* n : pools) FULCRUM_RETURN_IF_ERROR(rewrite_pool(*n).with_context(n->label()));
  for (auto& [v, dims] : p.blocked) const_cast<ir::Value*>(v)->type.dims = blocked_dims(dims, p.block);
  std::map<const ir::Value*, ir::Value*> unblocked;
  for (auto [reader, i] : plain_readers) {
    ir::Value* v = reader->inputs[i];
    auto it = unblocked.find(v);
    if (it == unblocked.end()) {
      FULCRUM_ASSIGN_OR_RETURN(ir::Value * plain, add_reorder(graph, v, p.blocked.at(v), 0));
      it = unblocked.emplace(v, plain).first;
    }
    reader->inputs[i] = it->second;
  }
  FULCRUM_RETURN_IF_ERROR(graph.sort_topologically());
  ctx.count(name(), "blocked tensors", static_cast<int64_t>(p.blocked.size()));
  ctx.count(name(), "reorders from blocked", static_cast<int64_t>(unblocked.size()));
  return true;
}

}  // namespace fulcrum::passes
