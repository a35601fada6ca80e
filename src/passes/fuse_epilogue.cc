#include "passes/fuse_epilogue.h"

#include <cfloat>
#include <optional>
#include <unordered_set>

#include "core/error.h"
#include "ir/graph_edit.h"
#include "ops/fused.h"
#include "ops/matmul.h"

namespace fulcrum::passes {
namespace {

// What one step of growth absorbs: the post-op and the nodes it replaces (the last one
// writes the tensor the fused node will write).
struct Match {
  ops::PostOp op;
  ir::Value* operand = nullptr;  // a binary post-op's other input
  std::vector<ir::Node*> absorbed;
};

bool is_default_domain(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// The anchor kind a node can grow into ("FusedConv" / "FusedMatMul"), or nullptr.
const char* fused_kind(const ir::Node& n) {
  if (n.typed_attrs == nullptr || n.outputs.empty() || n.outputs[0] == nullptr) return nullptr;
  if (n.domain == ops::kFulcrumDomain && (n.op_type == "FusedConv" || n.op_type == "FusedMatMul"))
    return n.op_type.c_str();
  if (!is_default_domain(n)) return nullptr;
  if (n.op_type == "Conv") return "FusedConv";
  if (n.op_type == "Gemm" || n.op_type == "MatMul") return "FusedMatMul";
  return nullptr;
}

bool same_static_shape(const ir::Value& a, const ir::Value& b) {
  if (!a.type.dims || !b.type.dims || a.type.dims->size() != b.type.dims->size()) return false;
  for (size_t i = 0; i < a.type.dims->size(); ++i) {
    const ir::Dim &x = (*a.type.dims)[i], &y = (*b.type.dims)[i];
    if (x.is_fixed() != y.is_fixed()) return false;
    if (x.is_fixed() ? x.value != y.value : (x.param.empty() || x.param != y.param)) return false;
  }
  return true;
}

// A value the fused node may take over: read once, by `reader`, and not a graph output.
bool only_read_by(const ir::Graph& graph, const ir::Value* v, const ir::Node* reader) {
  if (ir::is_graph_output(graph, v)) return false;
  auto readers = ir::consumers(graph, v);
  return readers.size() == 1 && readers[0] == reader;
}

std::optional<float> scalar_constant(const ir::Value* v) {
  if (v == nullptr || !v->is_constant() || v->constant.dtype() != DType::kFloat32 || v->constant.numel() != 1)
    return std::nullopt;
  return v->constant.data<float>()[0];
}

ops::PostOp post_op_of(const ir::Node& n) {
  ops::PostOp op;
  op.domain = n.domain == "ai.onnx" ? "" : n.domain;
  op.op_type = n.op_type;
  op.opset = n.opset;
  op.attrs = n.attrs;
  op.typed = n.typed_attrs;
  return op;
}

// Clip from opset 11 takes its bounds as inputs; as a post-op they become Clip-6's attributes.
std::optional<ops::PostOp> clip_post_op(const ir::Node& clip) {
  ops::PostOp op = post_op_of(clip);
  if (clip.opset < 11) return op;
  std::optional<float> lo = clip.inputs.size() > 1 && clip.inputs[1] ? scalar_constant(clip.inputs[1]) : -FLT_MAX;
  std::optional<float> hi = clip.inputs.size() > 2 && clip.inputs[2] ? scalar_constant(clip.inputs[2]) : FLT_MAX;
  if (!lo || !hi) return std::nullopt;
  op.opset = 6;
  op.attrs = {{"min", *lo}, {"max", *hi}};
  return op;
}

// SiLU: `x` read by exactly Sigmoid(x) and Mul(x, sigmoid(x)) (in either order).
std::optional<Match> match_silu(const ir::Graph& graph, ir::Value* x, const std::vector<ir::Node*>& readers) {
  if (readers.size() != 2) return std::nullopt;
  for (int s = 0; s < 2; ++s) {
    ir::Node* sig = readers[s];
    ir::Node* mul = readers[1 - s];
    if (!is_default_domain(*sig) || sig->op_type != "Sigmoid" || !is_default_domain(*mul) || mul->op_type != "Mul")
      continue;
    if (sig->outputs.size() != 1 || mul->inputs.size() != 2 || mul->outputs.size() != 1) continue;
    ir::Value* s_out = sig->outputs[0];
    const bool pair =
        (mul->inputs[0] == x && mul->inputs[1] == s_out) || (mul->inputs[1] == x && mul->inputs[0] == s_out);
    if (!pair || !only_read_by(graph, s_out, mul)) continue;
    Match m;
    m.op.domain = ops::kFulcrumDomain;
    m.op.op_type = "Silu";
    m.op.typed = std::make_shared<ops::OpAttrs>();
    m.absorbed = {sig, mul};
    return m;
  }
  return std::nullopt;
}

// x's last dimension, from its type or, where shape inference lost it (BERT's reshapes), from
// its producer: a MatMul / Gemm with a constant B writes B's column count.
std::optional<int64_t> last_dim(const ir::Value& x) {
  if (x.type.dims && !x.type.dims->empty() && x.type.dims->back().is_fixed()) return x.type.dims->back().value;
  const ir::Node* p = x.producer;
  if (p == nullptr || p->typed_attrs == nullptr || p->inputs.size() < 2 || p->inputs[1] == nullptr ||
      !p->inputs[1]->is_constant() || p->inputs[1]->constant.rank() != 2)
    return std::nullopt;
  const Tensor& b = p->inputs[1]->constant;
  bool trans_b = false;
  if (is_default_domain(*p) && p->op_type == "Gemm")
    trans_b = p->attrs_as<ops::GemmAttrs>().trans_b;
  else if (p->domain == ops::kFulcrumDomain && p->op_type == "FusedMatMul")
    trans_b = p->attrs_as<ops::FusedMatMulAttrs>().gemm && p->attrs_as<ops::FusedMatMulAttrs>().trans_b;
  else if (!(is_default_domain(*p) && p->op_type == "MatMul"))
    return std::nullopt;
  return trans_b ? b.dim(0) : b.dim(1);
}

// A constant row ([N] or [1, ..., 1, N]) added to an x whose last dimension is N broadcasts
// without widening x, whatever x's other dimensions are.
bool is_row_of(const ir::Value& operand, const ir::Value& x) {
  const std::optional<int64_t> n = last_dim(x);
  if (!operand.is_constant() || !n) return false;
  const Tensor& c = operand.constant;
  if (c.rank() == 0 || c.numel() != *n || c.shape().back() != *n) return false;
  return c.rank() == 1 || (x.type.dims && static_cast<int64_t>(x.type.dims->size()) >= c.rank());
}

// The next post-op for the fused node writing `x`, or nullopt.
std::optional<Match> match_next(const ir::Graph& graph, ir::Value* x) {
  if (ir::is_graph_output(graph, x) || x->type.dtype != DType::kFloat32) return std::nullopt;
  const std::vector<ir::Node*> readers = ir::consumers(graph, x);
  if (auto silu = match_silu(graph, x, readers)) return silu;
  if (readers.size() != 1) return std::nullopt;
  ir::Node& c = *readers[0];
  if (c.schema == nullptr || c.typed_attrs == nullptr || (c.schema->traits & ops::kEpilogueFusable) == 0)
    return std::nullopt;
  if (c.outputs.empty() || c.outputs[0] == nullptr || c.outputs[0]->type.dtype != DType::kFloat32) return std::nullopt;
  for (size_t i = 1; i < c.outputs.size(); ++i)
    if (c.outputs[i] != nullptr) return std::nullopt;
  Match m;
  m.absorbed = {&c};
  if (is_default_domain(c) && c.op_type == "Clip") {
    if (c.inputs.empty() || c.inputs[0] != x) return std::nullopt;
    auto clip = clip_post_op(c);
    if (!clip) return std::nullopt;
    m.op = std::move(*clip);
    return m;
  }
  m.op = post_op_of(c);
  if (c.inputs.size() == 1 && c.inputs[0] == x) return m;
  if (c.inputs.size() != 2 || c.inputs[0] == c.inputs[1] || c.inputs[0] == nullptr || c.inputs[1] == nullptr)
    return std::nullopt;
  // op(x, other); op(other, x) only for the commutative Add.
  const bool x_first = c.inputs[0] == x;
  if (!x_first && !(is_default_domain(c) && c.op_type == "Add")) return std::nullopt;
  // The other operand may broadcast onto x but not widen it: the fused output is x-shaped.
  m.operand = x_first ? c.inputs[1] : c.inputs[0];
  if (!same_static_shape(*x, *c.outputs[0]) && !is_row_of(*m.operand, *x)) return std::nullopt;
  return m;
}

// Turns `anchor` into its fused form (once) and appends `m` to its epilogue; the fused node
// then writes the last absorbed node's output.
Status grow(ir::Graph& graph, ir::Node& anchor, const char* kind, Match& m) {
  std::vector<ops::PostOp> post_ops;
  if (anchor.domain == ops::kFulcrumDomain) {
    post_ops = anchor.op_type == "FusedConv" ? anchor.attrs_as<ops::FusedConvAttrs>().epilogue.post_ops
                                             : anchor.attrs_as<ops::FusedMatMulAttrs>().epilogue.post_ops;
  } else {
    if (anchor.op_type != "Conv") anchor.attrs["anchor"] = anchor.op_type;
    anchor.op_type = kind;
    anchor.domain = ops::kFulcrumDomain;
    anchor.opset = 1;
    anchor.inputs.resize(ops::kFusedAnchorInputs, nullptr);
  }
  if (m.operand != nullptr) {
    m.op.input = static_cast<int64_t>(anchor.inputs.size());
    anchor.inputs.push_back(m.operand);
  }
  post_ops.push_back(std::move(m.op));
  ops::set_epilogue_attrs(post_ops, anchor.attrs);
  FULCRUM_RETURN_IF_ERROR(anchor.parse_attributes());
  // The fused node writes the last absorbed node's output (its name, maybe a graph output).
  ir::Node& last = *m.absorbed.back();
  ir::Value* y = last.outputs[0];
  anchor.outputs[0]->producer = nullptr;
  anchor.outputs[0] = y;
  y->producer = &anchor;
  for (ir::Node* n : m.absorbed) {
    n->inputs.clear();
    n->outputs.clear();
  }
  return Status::ok();
}

}  // namespace

Result<bool> FuseEpilogue::run(ir::Graph& graph, PassContext& ctx) {
  std::unordered_set<const ir::Node*> absorbed;
  int64_t post_ops = 0;
  for (const auto& n : graph.nodes()) {
    if (absorbed.count(n.get())) continue;
    const char* kind = fused_kind(*n);
    if (kind == nullptr) continue;
    while (auto m = match_next(graph, n->outputs[0])) {
      for (ir::Node* a : m->absorbed) absorbed.insert(a);
      FULCRUM_RETURN_IF_ERROR(grow(graph, *n, kind, *m).with_context(n->label()));
      ++post_ops;
    }
  }
  if (absorbed.empty()) return false;
  if (!graph.opsets.count(ops::kFulcrumDomain)) graph.opsets[ops::kFulcrumDomain] = 1;
  // A binary post-op's operand may be computed after the anchor: restore the order first.
  FULCRUM_RETURN_IF_ERROR(graph.sort_topologically());
  FULCRUM_RETURN_IF_ERROR(
      ir::remove_nodes_if(graph, [&](const ir::Node& n) { return absorbed.count(&n) > 0; }).status());
  ctx.count(name(), "post-ops fused", post_ops);
  return true;
}

}  // namespace fulcrum::passes
