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
#include "ops/tensor.h"

namespace fulcrum::passes {
namespace {

using Dims = std::vector<ir::Dim>;

bool is_onnx(const ir::Node& n, const char* op) {
  return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op;
}
bool is_fulcrum(const ir::Node& n, const char* op) { return n.domain == ops::kFulcrumDomain && n.op_type == op; }

// A float32 [N, C, H, W] value with fixed C, H and W (N may be symbolic), NCHW.
bool fixed_chw(const ir::Value& v) {
  if (v.type.dtype != DType::kFloat32 || !v.type.dims || v.type.dims->size() != 4) return false;
  for (size_t i = 1; i < 4; ++i)
    if (!(*v.type.dims)[i].is_fixed() || (*v.type.dims)[i].value <= 0) return false;
  return true;
}

// A blocked value: its NCHW dims and channels per block. With C not a multiple of the
// block, the last block is padded (oneDNN's convolutions write zeros there and read it as
// zeros), and the channel count is known only to the convolutions, from their weights.
struct Blocked {
  Dims nchw;
  int64_t block = 0;
  bool operator==(const Blocked& o) const;
};

bool same_dims(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].value != b[i].value || (!a[i].is_fixed() && a[i].param != b[i].param)) return false;
  return true;
}

bool Blocked::operator==(const Blocked& o) const { return block == o.block && same_dims(nchw, o.nchw); }

Dims blocked_dims(const Blocked& b) {
  const Dims& d = b.nchw;
  return {d[0], {(d[1].value + b.block - 1) / b.block, ""}, d[2], d[3], {b.block, ""}};
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

// Channels per block for a C-channel tensor that any kernel may read: `preferred` where it
// divides C, else 8 where 8 does (oneDNN's AVX2 kernels take nChw8c on an AVX-512 CPU too,
// and a conv between the two blockings reorders far less than an NCHW one would); 0: NCHW.
int64_t full_block(int64_t channels, int64_t preferred) {
  if (channels % preferred == 0) return preferred;
  return preferred > 8 && channels % 8 == 0 ? 8 : 0;
}

// Whether C channels may be padded up to whole blocks of `block`: at most half again as many.
bool paddable(int64_t channels, int64_t block) {
  const int64_t padded = (channels + block - 1) / block * block;
  return padded != channels && 2 * padded <= 3 * channels;
}

using Readers = std::unordered_map<const ir::Value*, std::vector<std::pair<ir::Node*, size_t>>>;

// Whether only convolutions read `v`: each as its input, or as the residual operand of one
// whose output qualifies too. A padded tensor must meet no other kernel: the channel count
// is known only to the convolutions (from their weights).
bool only_convs_read(const ir::Graph& graph, const ir::Value& v, const Readers& readers, int depth = 0) {
  auto it = readers.find(&v);
  if (it == readers.end() || ir::is_graph_output(graph, &v) || depth > 16) return false;
  for (auto [r, i] : it->second) {
    if (!layout_capable_conv(*r)) return false;
    if (i == 0) continue;
    const ir::Value& out = *r->outputs[0];
    if (i < ops::kFusedAnchorInputs || !fixed_chw(out) || !same_dims(*out.type.dims, *v.type.dims) ||
        !only_convs_read(graph, out, readers, depth + 1))
      return false;
  }
  return true;
}

// How each rewritten node reads and writes blocked tensors.
struct Plan {
  int64_t block = 8;  // the CPU's preferred channels per block
  Readers readers;
  std::unordered_map<const ir::Value*, Blocked> blocked;
  std::unordered_set<ir::Node*> conv_src, conv_dst, pools, passthrough, concats;
};

void plan_conv(const ir::Graph& graph, ir::Node& n, Plan& p) {
  if (!layout_capable_conv(n)) return;
  if (p.blocked.count(n.inputs[0])) p.conv_src.insert(&n);
  ir::Value* y = n.outputs[0];
  if (!fixed_chw(*y) || ir::is_graph_output(graph, y)) return;
  const Dims& dims = *y->type.dims;
  int64_t block = full_block(dims[1].value, p.block);
  if (block != p.block && paddable(dims[1].value, p.block) && only_convs_read(graph, *y, p.readers)) block = p.block;
  // A residual operand that is blocked already sets the output's blocking (it is read in
  // the output's layout).
  for (size_t i = ops::kFusedAnchorInputs; i < n.inputs.size(); ++i)
    if (auto it = p.blocked.find(n.inputs[i]); it != p.blocked.end() && same_dims(it->second.nchw, dims))
      block = it->second.block;
  if (block == 0) return;
  p.conv_dst.insert(&n);
  p.blocked.emplace(y, Blocked{dims, block});
}

// A Concat along the channels of inputs whose channels fill whole blocks: the blocked 5-D
// tensors concatenate along their block axis (1), so the op runs as it is. At least one
// input must be blocked already (with the output's block); plain ones are reordered in.
void plan_concat(ir::Node& n, const Blocked& out, Plan& p) {
  const int64_t axis = n.attrs_as<ops::ConcatAttrs>().axis;
  if (axis != 1 && axis != -3) return;
  bool any_blocked = false;
  for (const ir::Value* in : n.inputs) {
    if (in == nullptr || !fixed_chw(*in) || (*in->type.dims)[1].value % out.block != 0) return;
    auto it = p.blocked.find(in);
    if (it != p.blocked.end() && it->second.block != out.block) return;
    any_blocked = any_blocked || it != p.blocked.end();
  }
  if (!any_blocked) return;
  p.concats.insert(&n);
  p.blocked.emplace(n.outputs[0], out);
}

void plan_other(const ir::Graph& graph, ir::Node& n, Plan& p) {
  if (n.inputs.empty() || n.outputs.empty() || n.outputs[0] == nullptr) return;
  ir::Value* y = n.outputs[0];
  const bool blocked_input = p.blocked.count(n.inputs[0]) > 0;
  if (is_onnx(n, "GlobalAveragePool") && blocked_input) {
    p.pools.insert(&n);
    return;
  }
  if (!fixed_chw(*y) || ir::is_graph_output(graph, y)) return;
  const Blocked out{*y->type.dims, full_block((*y->type.dims)[1].value, p.block)};
  if (out.block == 0) return;
  if (pool_takes_blocked(n) && blocked_input) {
    p.pools.insert(&n);
    p.blocked.emplace(y, out);
    return;
  }
  if (is_onnx(n, "Concat")) {
    plan_concat(n, out, p);
    return;
  }
  if (n.schema == nullptr || (n.schema->traits & ops::kElementwise) == 0 || n.domain.size() > 0) return;
  if (n.outputs.size() != 1) return;
  bool any_blocked = false;
  for (const ir::Value* in : n.inputs) {
    auto it = p.blocked.find(in);
    if (it != p.blocked.end() && it->second == out)
      any_blocked = true;
    else if (!scalar_constant(in))
      return;
  }
  if (!any_blocked) return;
  p.passthrough.insert(&n);
  p.blocked.emplace(y, out);
}

// A reorder of `v` (NCHW dims `nchw`) to `block` channels per block (> 0), or (0) from
// blocked to NCHW.
Result<ir::Value*> add_reorder(ir::Graph& graph, ir::Value* v, const Dims& nchw, int64_t block) {
  const bool to_blocked = block > 0;
  FULCRUM_ASSIGN_OR_RETURN(ir::Value * out,
                           graph.add_value(ir::unique_value_name(
                               graph, v->name() + (to_blocked ? fmt::format("_nChw{}c", block) : "_nchw"))));
  out->type.dtype = DType::kFloat32;
  out->type.dims = to_blocked ? blocked_dims(Blocked{nchw, block}) : nchw;
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
    FULCRUM_ASSIGN_OR_RETURN(ops::Layout src, ops::blocked_layout(p.blocked.at(n.inputs[0]).block));
    n.attrs["src_layout"] = std::string(ops::layout_name(src));
  }
  if (p.conv_dst.count(&n)) {
    const Blocked& y = p.blocked.at(n.outputs[0]);
    FULCRUM_ASSIGN_OR_RETURN(ops::Layout dst, ops::blocked_layout(y.block));
    n.attrs["dst_layout"] = std::string(ops::layout_name(dst));
    // A full-shape (residual) operand must be in the destination's layout.
    for (size_t i = ops::kFusedAnchorInputs; i < n.inputs.size(); ++i) {
      ir::Value* o = n.inputs[i];
      if (p.blocked.count(o) || !o->type.dims || !same_dims(*o->type.dims, y.nchw)) continue;
      FULCRUM_ASSIGN_OR_RETURN(n.inputs[i], add_reorder(graph, o, y.nchw, y.block));
    }
  }
  return n.parse_attributes();
}

Status rewrite_concat(ir::Graph& graph, ir::Node& n, const Plan& p) {
  const int64_t block = p.blocked.at(n.outputs[0]).block;
  for (ir::Value*& in : n.inputs)
    if (!p.blocked.count(in)) {
      FULCRUM_ASSIGN_OR_RETURN(in, add_reorder(graph, in, *in->type.dims, block));
    }
  n.attrs["axis"] = int64_t{1};  // the block axis of the 5-D tensors
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
  if (p.passthrough.count(r) || p.concats.count(r)) return true;
  return i >= ops::kFusedAnchorInputs && p.conv_dst.count(r) && p.blocked.at(v) == p.blocked.at(reader.outputs[0]);
}

bool already_laid_out(const ir::Graph& graph) {
  for (const auto& n : graph.nodes()) {
    if (is_fulcrum(*n, "ReorderToBlocked") || is_fulcrum(*n, "ReorderFromBlocked") || is_fulcrum(*n, "BlockedPool") ||
        is_fulcrum(*n, "FusedConvDepthwise"))
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
  for (const auto& n : graph.nodes())
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (n->inputs[i] != nullptr) p.readers[n->inputs[i]].emplace_back(n.get(), i);
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
  std::vector<ir::Node*> convs, pools, concats;
  for (const auto& n : graph.nodes()) {
    if (p.conv_src.count(n.get()) || p.conv_dst.count(n.get())) convs.push_back(n.get());
    if (p.pools.count(n.get())) pools.push_back(n.get());
    if (p.concats.count(n.get())) concats.push_back(n.get());
  }
  for (ir::Node* n : convs) FULCRUM_RETURN_IF_ERROR(rewrite_conv(graph, *n, p).with_context(n->label()));
  for (ir::Node* n : pools) FULCRUM_RETURN_IF_ERROR(rewrite_pool(*n).with_context(n->label()));
  for (ir::Node* n : concats) FULCRUM_RETURN_IF_ERROR(rewrite_concat(graph, *n, p).with_context(n->label()));
  for (auto& [v, b] : p.blocked) const_cast<ir::Value*>(v)->type.dims = blocked_dims(b);
  std::map<const ir::Value*, ir::Value*> unblocked;
  for (auto [reader, i] : plain_readers) {
    ir::Value* v = reader->inputs[i];
    auto it = unblocked.find(v);
    if (it == unblocked.end()) {
      const Blocked& b = p.blocked.at(v);
      if (b.nchw[1].value % b.block != 0)  // only_convs_read() promised no other reader
        return internal_error("{}: padded blocked tensor '{}' has a plain reader", reader->label(), v->name());
      FULCRUM_ASSIGN_OR_RETURN(ir::Value * plain, add_reorder(graph, v, b.nchw, 0));
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
