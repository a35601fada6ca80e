#include "passes/lower_int8.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "ir/graph_edit.h"
#include "ops/pool.h"
#include "ops/quantized_fused.h"
#include "passes/int8_support.h"

namespace fulcrum::passes {
namespace {

enum class Family { kConv, kMatMul };

struct Layer {
  ir::Node* node = nullptr;
  Family family = Family::kConv;
  bool out_int8 = false;
  DType out_dtype = DType::kFloat32;
};

bool is_conv(const ir::Node& n) { return n.op_type == "Conv" || n.op_type == "FusedConv" || n.op_type == "QConv"; }

const ops::Epilogue* epilogue_of(const ir::Node& n) {
  if (n.domain != ops::kFulcrumDomain || n.typed_attrs == nullptr) return nullptr;
  if (n.op_type == "FusedConv" || n.op_type == "QConv") return &n.attrs_as<ops::FusedConvAttrs>().epilogue;
  if (n.op_type == "FusedMatMul") return &n.attrs_as<ops::FusedMatMulAttrs>().epilogue;
  if (n.op_type == "QMatMul") return &n.attrs_as<ops::QMatMulAttrs>().epilogue;
  return nullptr;
}

bool static_dims_equal(const ir::Value* a, const ir::Value* b) {
  if (a == nullptr || b == nullptr || !a->type.dims || !b->type.dims || a->type.dims->size() != b->type.dims->size())
    return false;
  for (size_t i = 0; i < a->type.dims->size(); ++i) {
    const ir::Dim &x = (*a->type.dims)[i], &y = (*b->type.dims)[i];
    if (x.is_fixed() ? x.value != y.value : (x.param.empty() || x.param != y.param)) return false;
  }
  return true;
}

// The inputs a conv layer's binary post-ops read with the output's full shape (residuals).
std::vector<size_t> full_operand_slots(const ir::Node& n) {
  std::vector<size_t> out;
  const ops::Epilogue* e = epilogue_of(n);
  if (e == nullptr || !is_conv(n)) return out;
  for (const ops::PostOp& op : e->post_ops)
    if (op.input >= 0 && static_dims_equal(n.inputs[static_cast<size_t>(op.input)], n.outputs[0]))
      out.push_back(static_cast<size_t>(op.input));
  return out;
}

// True when the node's output is >= 0 by construction (it ends in a ReLU, or a pool or
// reshape of such a tensor): then it quantizes to uint8 with nothing clipped.
bool nonnegative(const ir::Value* v, int depth = 0) {
  if (v == nullptr || v->producer == nullptr || depth > 4) return false;
  const ir::Node& p = *v->producer;
  if (p.domain.empty() && p.op_type == "Relu") return true;
  if (const ops::Epilogue* e = epilogue_of(p); e != nullptr && !e->post_ops.empty()) {
    const ops::PostOp& last = e->post_ops.back();
    return last.domain.empty() && last.op_type == "Relu";
  }
  static const char* kMonotone[] = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten",
                                    "Reshape", "Transpose",   "Squeeze",           "Unsqueeze",     "BlockedPool"};
  for (const char* op : kMonotone)
    if (p.op_type == op && !p.inputs.empty()) return nonnegative(p.inputs[0], depth + 1);
  return false;
}

struct QuantizedWeights {
  Tensor q;  // int8
  std::vector<float> scales;
};

// Quantizes a float matrix [rows, cols] per row (per_row) or per column to int8, with the
// scales a Q/DQ model fixed or max|w| / 127. `transpose` stores the result [cols, rows].
Result<QuantizedWeights> quantize(const ir::Value& w, int64_t rows, int64_t cols, bool per_row, bool transpose,
                                  const ir::WeightQuant* fixed, float multiplier) {
  const float* src = w.constant.data<float>();
  const int64_t channels = per_row ? rows : cols;
  QuantizedWeights out;
  out.scales.assign(static_cast<size_t>(channels), 0.f);
  if (fixed != nullptr) {
    if (fixed->scales.size() != 1 && static_cast<int64_t>(fixed->scales.size()) != channels)
      return invalid_argument(
          "weight '{}': the model quantizes it with {} scales along axis {}, not one per output "
          "channel ({})",
          w.name(), fixed->scales.size(), fixed->axis, channels);
    for (int64_t c = 0; c < channels; ++c)
      out.scales[c] = fixed->scales.size() == 1 ? fixed->scales[0] : fixed->scales[c];
  } else {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        float& s = out.scales[static_cast<size_t>(per_row ? r : c)];
        s = std::max(s, std::fabs(src[r * cols + c]));
      }
    for (float& s : out.scales) s = s > 0.f ? s / 127.f : 1.f;  // an all-zero channel: any scale
  }
  const float lo = fixed != nullptr ? -128.f : -127.f;
  std::vector<int8_t> q(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float s = out.scales[static_cast<size_t>(per_row ? r : c)];
      const float v = std::clamp(std::nearbyint(src[r * cols + c] / s), lo, 127.f);
      q[static_cast<size_t>(transpose ? c * rows + r : r * cols + c)] = static_cast<int8_t>(v);
    }
  Shape shape = transpose ? Shape{cols, rows} : w.constant.shape();
  out.q = Tensor::from_vector(DType::kInt8, shape, q);
  for (float& s : out.scales) s *= multiplier;
  return out;
}

class Lowering {
 public:
  explicit Lowering(ir::Graph& graph) : g_(graph) {}

  Result<int64_t> run() {
    for (const auto& n : g_.nodes())
      if (n->precision == Precision::kInt8 && int8_support(g_, *n).ok)
        layers_[n.get()] = Layer{n.get(), is_conv(*n) ? Family::kConv : Family::kMatMul};
    if (layers_.empty()) return 0;
    for (auto& [node, layer] : layers_) {
      nonneg_input_[node] = nonnegative(node->inputs[0]);
      layer.out_int8 = may_stay_int8(layer);
    }
    settle_residual_layouts();
    for (auto& [node, layer] : layers_)
      if (layer.out_int8) layer.out_dtype = ends_in_relu(*node) ? DType::kUInt8 : DType::kInt8;
    for (const auto& n : g_.nodes()) {
      const Layer* source = layer_of(n->inputs.empty() ? nullptr : n->inputs[0]);
      if (source != nullptr && source->out_int8 && int8_pool(*n)) pools_[n.get()] = source;
    }
    for (const auto& n : g_.nodes()) {
      auto it = layers_.find(n.get());
      if (it != layers_.end()) FULCRUM_RETURN_IF_ERROR(lower(it->second));
      auto pool = pools_.find(n.get());
      if (pool != pools_.end()) FULCRUM_RETURN_IF_ERROR(lower_pool(*n, *pool->second));
    }
    return static_cast<int64_t>(layers_.size());
  }

 private:
  const Layer* layer_of(const ir::Value* v) const {
    if (v == nullptr || v->producer == nullptr) return nullptr;
    auto it = layers_.find(v->producer);
    return it == layers_.end() ? nullptr : &it->second;
  }

  static bool ends_in_relu(const ir::Node& n) {
    const ops::Epilogue* e = epilogue_of(n);
    return e != nullptr && !e->post_ops.empty() && e->post_ops.back().domain.empty() &&
           e->post_ops.back().op_type == "Relu";
  }

  // A MaxPool whose readers are all INT8 convolutions taking its output as their activation:
  // it can run on the int8 NHWC tensor of the convolution before it (fulcrum.NhwcPool).
  bool int8_pool(const ir::Node& p) const {
    if (!(p.domain.empty() || p.domain == "ai.onnx") || p.op_type != "MaxPool" || p.typed_attrs == nullptr ||
        p.inputs.empty() || (p.outputs.size() > 1 && p.outputs[1] != nullptr))
      return false;
    if (p.attrs_as<ops::PoolAttrs>().kernel_shape.size() != 2 || ir::is_graph_output(g_, p.outputs[0])) return false;
    const auto readers = ir::consumers(g_, p.outputs[0]);
    if (readers.empty()) return false;
    for (const ir::Node* r : readers) {
      auto it = layers_.find(const_cast<ir::Node*>(r));
      if (it == layers_.end() || it->second.family != Family::kConv) return false;
      for (size_t i = 1; i < r->inputs.size(); ++i)
        if (r->inputs[i] == p.outputs[0]) return false;
    }
    return true;
  }

  // Every reader is an INT8 layer of the same family taking the tensor as its activation
  // or (convolutions) as a residual, or a MaxPool that int8_pool() takes.
  bool may_stay_int8(const Layer& l) const {
    const ir::Value* out = l.node->outputs[0];
    if (g_.tensor_scales.count(out->name()) == 0 || ir::is_graph_output(g_, out)) return false;
    const auto readers = ir::consumers(g_, out);
    if (readers.empty()) return false;
    for (const ir::Node* r : readers) {
      if (l.family == Family::kConv && r->inputs[0] == out && int8_pool(*r)) continue;
      auto it = layers_.find(const_cast<ir::Node*>(r));
      if (it == layers_.end() || it->second.family != l.family) return false;
      const std::vector<size_t> residual = full_operand_slots(*r);
      for (size_t i = 0; i < r->inputs.size(); ++i) {
        if (r->inputs[i] != out || i == 0) continue;
        if (std::find(residual.begin(), residual.end(), i) == residual.end()) return false;
      }
    }
    return true;
  }

  // An INT8 residual (NHWC) joins any destination: the kernel copies it in. A float residual
  // (NCHW) into an INT8 destination (NHWC) would be a binary post-op across layouts, which
  // oneDNN has no fast kernel for: such a layer writes float instead.
  void settle_residual_layouts() {
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& [node, layer] : layers_) {
        if (!layer.out_int8) continue;
        for (size_t slot : full_operand_slots(*node)) {
          const Layer* p = layer_of(node->inputs[slot]);
          if (p != nullptr && p->out_int8) continue;
          layer.out_int8 = false;
          changed = true;
          break;
        }
      }
    }
  }

  Status lower(Layer& l) {
    ir::Node& n = *l.node;
    // Through an INT8 MaxPool, the input is the convolution's before it, with its scale.
    const ir::Value* x = n.inputs[0];
    if (x->producer != nullptr && pools_.count(x->producer) > 0) x = x->producer->inputs[0];
    const Layer* xp = layer_of(x);
    ops::QuantParams q;
    const bool x_int8 = xp != nullptr && xp->out_int8;
    q.in_dtype = x_int8 ? xp->out_dtype : nonneg_input_[&n] ? DType::kUInt8 : DType::kInt8;
    q.in_scale = scale_for(x, q.in_dtype);
    q.out_dtype = l.out_dtype;
    q.out_scale = l.out_int8 ? scale_for(n.outputs[0], l.out_dtype) : 0.f;
    if (const ops::Epilogue* e = epilogue_of(n))
      for (const ops::PostOp& op : e->post_ops) {
        if (op.input < 0) continue;
        const ir::Value* v = n.inputs[static_cast<size_t>(op.input)];
        const Layer* vp = layer_of(v);
        q.operand_scales.push_back(vp != nullptr && vp->out_int8 ? scale_for(v, vp->out_dtype) : 0.f);
      }
    FULCRUM_RETURN_IF_ERROR(l.family == Family::kConv ? lower_conv(n, q, x_int8) : lower_matmul(n, q));
    ir::Value* out = n.outputs[0];
    if (l.out_int8) {
      out->type.dtype = l.out_dtype;
      if (l.family == Family::kConv && out->type.dims && out->type.dims->size() == 4) {
        auto& d = *out->type.dims;
        d = {d[0], d[2], d[3], d[1]};  // NHWC
      }
    }
    return n.parse_attributes();
  }

  // The scale `v` is quantized with as `dtype`. A calibrated scale is amax / 127, TensorRT's
  // int8 grid; a tensor known to be >= 0 stored as uint8 uses the whole 0..255 range (amax /
  // 255), twice the resolution for every post-ReLU activation. Scales a Q/DQ model fixed
  // (it has weight_scales too) are honoured exactly.
  float scale_for(const ir::Value* v, DType dtype) const {
    const float scale = g_.tensor_scales.at(v->name());
    const bool explicit_model = !g_.weight_scales.empty();
    return dtype == DType::kUInt8 && !explicit_model ? scale * (127.f / 255.f) : scale;
  }

  // MaxPool -> fulcrum.NhwcPool on the int8 NHWC output of `source`.
  Status lower_pool(ir::Node& n, const Layer& source) {
    n.attrs["pool"] = std::string("MaxPool");
    n.attrs["pool_opset"] = n.opset;
    n.op_type = "NhwcPool";
    n.domain = ops::kFulcrumDomain;
    n.opset = 1;
    n.precision = Precision::kInt8;
    n.precision_reason = "runs on the INT8 tensor of " + source.node->name;
    ir::Value* out = n.outputs[0];
    out->type.dtype = source.out_dtype;
    if (out->type.dims && out->type.dims->size() == 4) {
      auto& d = *out->type.dims;
      d = {d[0], d[2], d[3], d[1]};  // NHWC
    }
    return n.parse_attributes();
  }

  ir::Value* add_constant(const std::string& base, Tensor t) {
    ir::Value* v = g_.add_value(ir::unique_value_name(g_, base)).value();
    v->type.dtype = t.dtype();
    std::vector<ir::Dim> dims;
    for (int64_t d : t.shape()) dims.push_back(ir::Dim{d, ""});
    v->type.dims = dims;
    v->constant = std::move(t);
    return v;
  }

  const ir::WeightQuant* fixed_scales(const ir::Value* w) const {
    auto it = g_.weight_scales.find(w->name());
    return it == g_.weight_scales.end() ? nullptr : &it->second;
  }

  static void set_quant_attrs(ops::Attributes& a, const ops::QuantParams& q, const char* scale_key,
                              const char* dtype_key, const std::vector<float>& w_scales) {
    a[scale_key] = q.in_scale;
    a[dtype_key] = std::string(ops::quant_dtype_name(q.in_dtype));
    a[ops::kWScales] = w_scales;
    a[ops::kYScale] = q.out_scale;
    a[ops::kYDtype] = std::string(ops::quant_dtype_name(q.out_dtype));
    a[ops::kOperandScales] = q.operand_scales;
  }

  Status lower_conv(ir::Node& n, const ops::QuantParams& q, bool x_int8) {
    const ir::Value* w = n.inputs[1];
    const Shape& ws = w->constant.shape();
    FULCRUM_ASSIGN_OR_RETURN(QuantizedWeights qw,
                             quantize(*w, ws[0], shape_numel(ws) / ws[0], true, false, fixed_scales(w), 1.f));
    n.inputs[1] = add_constant(w->name() + "_int8", std::move(qw.q));
    ops::Attributes a = n.attrs;
    a["src_layout"] = std::string(x_int8 ? "NHWC" : "NCHW");
    a["dst_layout"] = std::string(q.out_dtype != DType::kFloat32 ? "NHWC" : "NCHW");
    set_quant_attrs(a, q, ops::kXScale, ops::kXDtype, qw.scales);
    n.attrs = std::move(a);
    n.op_type = "QConv";
    n.domain = ops::kFulcrumDomain;
    n.opset = 1;
    return Status::ok();
  }

  Status lower_matmul(ir::Node& n, const ops::QuantParams& q) {
    ops::GemmAttrs gemm;  // MatMul: the identity (alpha 1, no transposes, no C)
    std::vector<ops::PostOp> post_ops;
    if (n.op_type == "Gemm") gemm = n.attrs_as<ops::GemmAttrs>();
    if (n.op_type == "FusedMatMul") {
      const auto& f = n.attrs_as<ops::FusedMatMulAttrs>();
      if (f.gemm) gemm = f;
      post_ops = f.epilogue.post_ops;
    }
    const ir::Value* w = n.inputs[1];
    const int64_t rows = w->constant.dim(0), cols = w->constant.dim(1);
    // Y = alpha * A x B' + beta * C: B' is [K, N] (B transposed when transB), alpha joins the
    // per-column scales, beta * C becomes the bias.
    FULCRUM_ASSIGN_OR_RETURN(QuantizedWeights qw,
                             quantize(*w, rows, cols, gemm.trans_b, gemm.trans_b, fixed_scales(w), gemm.alpha));
    n.inputs[1] = add_constant(w->name() + "_int8", std::move(qw.q));
    const int64_t n_cols = gemm.trans_b ? rows : cols;
    if (n.inputs.size() > 2 && n.inputs[2] != nullptr) {
      const ir::Value* c = n.inputs[2];
      if (!c->is_constant() || c->constant.dtype() != DType::kFloat32 || c->constant.numel() != n_cols)
        return invalid_argument("{}: INT8 needs Gemm's C to be a constant row of {} values", n.label(), n_cols);
      std::vector<float> bias(c->constant.data<float>(), c->constant.data<float>() + n_cols);
      for (float& b : bias) b *= gemm.beta;
      n.inputs[2] = add_constant(c->name() + "_bias", Tensor::from_vector(DType::kFloat32, {n_cols}, bias));
    }
    ops::Attributes a;
    ops::set_epilogue_attrs(post_ops, a);
    set_quant_attrs(a, q, ops::kAScale, ops::kADtype, qw.scales);
    n.attrs = std::move(a);
    n.op_type = "QMatMul";
    n.domain = ops::kFulcrumDomain;
    n.opset = 1;
    if (n.inputs.size() < ops::kFusedAnchorInputs) n.inputs.resize(ops::kFusedAnchorInputs, nullptr);
    return Status::ok();
  }

  ir::Graph& g_;
  std::map<ir::Node*, Layer> layers_;
  std::map<ir::Node*, bool> nonneg_input_;
  std::map<ir::Node*, const Layer*> pools_;  // MaxPools on an INT8 layer's output -> that layer
};

}  // namespace

Result<bool> LowerInt8::run(ir::Graph& graph, PassContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(int64_t lowered, Lowering(graph).run());
  if (lowered == 0) return false;
  ctx.count(name(), "INT8 layers", lowered);
  FULCRUM_RETURN_IF_ERROR(ir::remove_dead_nodes(graph).status());
  return true;
}

}  // namespace fulcrum::passes
