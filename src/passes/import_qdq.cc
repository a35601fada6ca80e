#include "passes/import_qdq.h"

#include <cmath>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

#include "backends/reference/util.h"
#include "core/error.h"
#include "core/logging.h"
#include "ir/graph_edit.h"
#include "ops/quantize.h"

namespace fulcrum::passes {
namespace {

bool is_op(const ir::Node& n, std::string_view op) {
  return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op;
}
bool is_q(const ir::Node& n) { return is_op(n, "QuantizeLinear"); }
bool is_dq(const ir::Node& n) { return is_op(n, "DequantizeLinear"); }

const ir::Value* input(const ir::Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : nullptr; }

// A Q/DQ node's scale and zero point, checked to be symmetric.
struct QParams {
  std::vector<float> scales;
  int64_t axis = 0;    // normalized; meaningful when scales.size() > 1
  int64_t center = 0;  // the zero point: 0, or 128 for uint8
  DType qtype = DType::kUndefined;
};

// Why a Q/DQ node stays in place: an empty optional means it is taken.
using Leave = std::optional<std::string>;

// The integer type a Q/DQ node quantizes to: its zero point's, else DequantizeLinear's input's,
// else QuantizeLinear's output_dtype (uint8 by default).
DType quantized_type(const ir::Node& n) {
  if (const ir::Value* zp = input(n, 2); zp != nullptr)
    return zp->is_constant() ? zp->constant.dtype() : zp->type.dtype;
  if (is_dq(n)) return n.inputs[0]->is_constant() ? n.inputs[0]->constant.dtype() : n.inputs[0]->type.dtype;
  const auto* a = n.typed_attrs ? &n.attrs_as<ops::QuantizeAttrs>() : nullptr;
  return a != nullptr && a->output_dtype != DType::kUndefined ? a->output_dtype : DType::kUInt8;
}

// Reads and checks the scale and zero point of `n`; `rank` is the quantized tensor's (-1:
// unknown). Returns a reason to leave the node alone, or fills `p`.
Result<Leave> read_params(const ir::Node& n, bool activation, int64_t rank, QParams& p) {
  const ir::Value* scale = input(n, 1);
  if (n.typed_attrs && n.attrs_as<ops::QuantizeAttrs>().block_size != 0) return Leave("blocked quantization");
  if (scale == nullptr || !scale->is_constant()) {
    if (activation) return invalid_argument("{}: the scale is not a constant; INT8 needs fixed scales", n.label());
    return Leave("non-constant scale");
  }
  if (scale->constant.dtype() != DType::kFloat32)
    return Leave("a scale of type " + std::string(dtype_name(scale->constant.dtype())));
  p.qtype = quantized_type(n);
  if (p.qtype == DType::kInt8 || p.qtype == DType::kInt32)
    p.center = 0;
  else if (p.qtype == DType::kUInt8)
    p.center = 128;
  else
    return Leave(std::string("quantization to ") + dtype_name(p.qtype));
  if (activation && p.qtype == DType::kInt32) return Leave("int32 activation quantization");
  const Tensor& s = scale->constant;
  p.scales.assign(s.data<float>(), s.data<float>() + s.numel());
  for (float v : p.scales)
    if (!std::isfinite(v) || v <= 0.0f)
      return invalid_argument("{}: scale {} is not finite and positive", n.label(), v);
  if (p.scales.size() > 1) {
    if (activation)
      return invalid_argument("{}: per-axis activation scales are not supported (one scale per tensor)", n.label());
    const int64_t axis = n.typed_attrs ? n.attrs_as<ops::QuantizeAttrs>().axis : 1;
    p.axis = axis < 0 && rank > 0 ? axis + rank : axis;
    if (rank >= 0 && (p.axis < 0 || p.axis >= rank))
      return invalid_argument("{}: axis {} is out of range for a rank-{} tensor", n.label(), axis, rank);
  }
  const ir::Value* zp = input(n, 2);
  if (zp != nullptr && !zp->is_constant()) return invalid_argument("{}: the zero point is not a constant", n.label());
  for (int64_t i = 0; zp != nullptr && i < zp->constant.numel(); ++i) {
    const int64_t z = backends::reference::read_as_int64(zp->constant, i);
    if (z == p.center) continue;
    if (activation)
      return invalid_argument(
          "{}: asymmetric activation quantization ({} zero point {}) is not supported; re-quantize with "
          "ActivationSymmetric=True",
          n.label(), dtype_name(p.qtype), z);
    return invalid_argument(
        "{}: asymmetric weight quantization ({} zero point {}) is not supported; re-quantize with WeightSymmetric=True",
        n.label(), dtype_name(p.qtype), z);
  }
  if (zp == nullptr && p.center != 0)  // uint8 without a zero point: zero point 0, an asymmetric grid
    return invalid_argument(
        "{}: asymmetric activation quantization (uint8 zero point 0) is not supported; re-quantize with "
        "ActivationSymmetric=True",
        n.label());
  return Leave();
}

// w_q * s (per slice along p.axis, or one scale), shifted by the zero point.
Tensor dequantize(const Tensor& q, const QParams& p) {
  Tensor w = Tensor::zeros(DType::kFloat32, q.shape());
  int64_t inner = 1, channels = static_cast<int64_t>(p.scales.size());
  if (channels > 1)
    for (int64_t d = p.axis + 1; d < q.rank(); ++d) inner *= q.dim(d);
  float* out = w.mutable_data<float>();
  for (int64_t k = 0; k < q.numel(); ++k) {
    const float s = p.scales[static_cast<size_t>(channels > 1 ? (k / inner) % channels : 0)];
    out[k] = static_cast<float>(backends::reference::read_as_int64(q, k) - p.center) * s;
  }
  return w;
}

class QdqImporter {
 public:
  QdqImporter(ir::Graph& graph, std::set<std::string>& reported) : graph_(graph), reported_(reported) {}

  Result<bool> run(PassContext& ctx, std::string_view pass) {
    FULCRUM_RETURN_IF_ERROR(check_scales_agree());
    std::vector<ir::Node*> dqs;
    for (const auto& n : graph_.nodes())
      if (is_dq(*n)) dqs.push_back(n.get());
    for (ir::Node* d : dqs) {
      const ir::Value* x = d->inputs.empty() ? nullptr : d->inputs[0];
      if (x != nullptr && x->producer != nullptr && is_q(*x->producer)) {
        FULCRUM_RETURN_IF_ERROR(take_pair(*x->producer, *d));
      } else if (x != nullptr && x->is_constant()) {
        FULCRUM_RETURN_IF_ERROR(take_constant(*d));
      } else {
        left_in_place(*d, "its input is neither a constant nor a QuantizeLinear's output");
      }
    }
    for (const auto& n : graph_.nodes()) {
      if (!is_q(*n) || n->outputs.empty() || n->outputs[0] == nullptr) continue;
      const auto readers = ir::consumers(graph_, n->outputs[0]);
      if (taken_q_.count(n.get()) == 0 &&
          std::none_of(readers.begin(), readers.end(), [](const ir::Node* r) { return is_dq(*r); }))
        left_in_place(*n, "no DequantizeLinear reads it");
      // A QuantizeLinear whose every reader was a taken DequantizeLinear goes with them.
      if (taken_q_.count(n.get()) && !ir::is_graph_output(graph_, n->outputs[0]) &&
          std::all_of(readers.begin(), readers.end(), [&](const ir::Node* r) { return removed_.count(r) > 0; }))
        removed_.insert(n.get());
    }
    ctx.count(pass, "Q/DQ nodes left in place", static_cast<int64_t>(left_));
    if (removed_.empty()) return false;
    FULCRUM_RETURN_IF_ERROR(
        ir::remove_nodes_if(graph_, [&](const ir::Node& n) { return removed_.count(&n) > 0; }).status());
    ctx.count(pass, "activation Q/DQ pairs removed", pairs_);
    ctx.count(pass, "weights dequantized", weights_);
    ctx.count(pass, "biases dequantized", biases_);
    ctx.count(pass, "layers marked int8", mark_int8_layers());
    return true;
  }

 private:
  // One tensor quantized by two QuantizeLinears with different scales cannot have one scale.
  Status check_scales_agree() {
    std::map<const ir::Value*, const ir::Node*> first;
    for (const auto& n : graph_.nodes()) {
      if (!is_q(*n) || n->inputs.empty() || input(*n, 1) == nullptr || !input(*n, 1)->is_constant()) continue;
      auto [it, inserted] = first.emplace(n->inputs[0], n.get());
      if (inserted) continue;
      const Tensor& a = it->second->inputs[1]->constant;
      const Tensor& b = n->inputs[1]->constant;
      if (a.numel() == 1 && b.numel() == 1 && a.dtype() == DType::kFloat32 && b.dtype() == DType::kFloat32 &&
          a.data<float>()[0] != b.data<float>()[0])
        return invalid_argument("tensor '{}' is quantized with two scales: {} by {} and {} by {}", n->inputs[0]->name(),
                                a.data<float>()[0], it->second->label(), b.data<float>()[0], n->label());
    }
    return Status::ok();
  }

  // x -> q -> d: readers of d's output read x; x's scale is recorded.
  Status take_pair(ir::Node& q, ir::Node& d) {
    ir::Value* x = q.inputs[0];
    if (x == nullptr || (x->type.dtype != DType::kFloat32 && x->type.dtype != DType::kUndefined))
      return leave(d, "its QuantizeLinear's input is not float32");
    QParams qp, dp;
    FULCRUM_ASSIGN_OR_RETURN(Leave why, read_params(q, true, -1, qp));
    if (why) return leave(q, *why);
    FULCRUM_ASSIGN_OR_RETURN(why, read_params(d, true, -1, dp));
    if (why) return leave(d, *why);
    if (qp.scales != dp.scales || qp.center != dp.center || qp.qtype != dp.qtype)
      return invalid_argument("{} dequantizes with scale {} what {} quantized with scale {}", d.label(), dp.scales[0],
                              q.label(), qp.scales[0]);
    ir::Value* from = d.outputs[0];
    const bool keeps_output_name = ir::is_graph_output(graph_, from);
    FULCRUM_ASSIGN_OR_RETURN(bool replaced, ir::replace_all_uses(graph_, from, x));
    if (!replaced) return leave(d, "it copies a graph input to a graph output");
    const std::string name = keeps_output_name ? from->name() : x->name();
    graph_.tensor_scales[name] = qp.scales[0];
    dequantized_.insert(name);
    removed_.insert(&d);
    taken_q_.insert(&q);
    ++pairs_;
    return Status::ok();
  }

  // DequantizeLinear of a constant: the constant, dequantized, under the node's output name.
  Status take_constant(ir::Node& d) {
    const Tensor& q = d.inputs[0]->constant;
    QParams p;
    FULCRUM_ASSIGN_OR_RETURN(Leave why, read_params(d, false, q.rank(), p));
    if (why) return leave(d, *why);
    if (p.scales.size() > 1 && q.dim(p.axis) != static_cast<int64_t>(p.scales.size()))
      return invalid_argument("{}: {} scales for axis {} of '{}' {}", d.label(), p.scales.size(), p.axis,
                              d.inputs[0]->name(), shape_to_string(q.shape()));
    ir::Value* v = d.outputs[0];
    v->constant = dequantize(q, p);
    v->type.dtype = DType::kFloat32;
    std::vector<ir::Dim> dims;
    for (int64_t n : q.shape()) dims.push_back(ir::Dim{n, {}});
    v->type.dims = std::move(dims);
    v->producer = nullptr;
    d.outputs[0] = nullptr;
    removed_.insert(&d);
    if (p.qtype == DType::kInt32) {
      ++biases_;
      return Status::ok();
    }
    graph_.weight_scales[v->name()] = ir::WeightQuant{p.scales, p.scales.size() > 1 ? p.axis : 0};
    dequantized_weights_.insert(v->name());
    ++weights_;
    return Status::ok();
  }

  void left_in_place(const ir::Node& n, const std::string& why) {
    ++left_;
    if (reported_.insert(n.name).second)
      log_warning("{}: left in place ({}); it runs on the reference kernels, in float", n.label(), why);
  }
  Status leave(const ir::Node& n, const std::string& why) {
    left_in_place(n, why);
    return Status::ok();
  }

  // Conv / Gemm / MatMul reading a dequantized activation and a dequantized weight.
  int64_t mark_int8_layers() {
    int64_t marked = 0;
    for (const auto& n : graph_.nodes()) {
      if (!is_op(*n, "Conv") && !is_op(*n, "Gemm") && !is_op(*n, "MatMul")) continue;
      const ir::Value* a = input(*n, 0);
      const ir::Value* b = input(*n, 1);
      if (a == nullptr || b == nullptr) continue;
      const bool ab = dequantized_.count(a->name()) && dequantized_weights_.count(b->name());
      const bool ba = !is_op(*n, "Conv") && dequantized_weights_.count(a->name()) && dequantized_.count(b->name());
      if (!ab && !ba) continue;
      n->precision = Precision::kInt8;
      n->precision_reason = "Q/DQ in the model";
      ++marked;
    }
    return marked;
  }

  ir::Graph& graph_;
  std::set<std::string>& reported_;
  std::unordered_set<const ir::Node*> removed_;
  std::unordered_set<const ir::Node*> taken_q_;  // QuantizeLinears some pair took
  std::unordered_set<std::string> dequantized_, dequantized_weights_;
  int64_t pairs_ = 0, weights_ = 0, biases_ = 0;
  size_t left_ = 0;
};

}  // namespace

bool has_qdq_nodes(const ir::Graph& graph) {
  for (const auto& n : graph.nodes())
    if (is_q(*n) || is_dq(*n)) return true;
  return false;
}

Result<bool> ImportQdq::run(ir::Graph& graph, PassContext& ctx) {
  if (!has_qdq_nodes(graph)) return false;
  return QdqImporter(graph, reported_).run(ctx, name());
}

std::unique_ptr<Pass> make_import_qdq_pass() { return std::make_unique<ImportQdq>(); }

}  // namespace fulcrum::passes
