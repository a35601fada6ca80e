#include "quant/qdq_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include "core/error.h"
#include "frontend/onnx/model_file.h"
#include "frontend/onnx/tensor_proto.h"

namespace fulcrum::quant {
namespace {

namespace fo = frontend::onnx;
using ::onnx::GraphProto;
using ::onnx::ModelProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;

// Per-axis DequantizeLinear, and QuantizeLinear's int8 output, need opset 13.
constexpr int64_t kMinOpset = 13;

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

int64_t default_opset(const ModelProto& model) {
  for (const auto& oi : model.opset_import())
    if (is_default_domain(oi.domain())) return oi.version();
  return 0;
}

// Every tensor name a graph and its subgraphs read (outer-scope references included).
void collect_reads(const GraphProto& graph, std::unordered_set<std::string>& reads) {
  for (const auto& node : graph.node()) {
    for (const auto& in : node.input()) reads.insert(in);
    for (const auto& attr : node.attribute()) {
      if (attr.has_g()) collect_reads(attr.g(), reads);
      for (const auto& g : attr.graphs()) collect_reads(g, reads);
    }
  }
  for (const auto& out : graph.output()) reads.insert(out.name());
}

// Fresh value and node names ("x_scale", then "x_scale_1", ...), as onnx.helper would not check.
class Names {
 public:
  explicit Names(const GraphProto& graph) {
    for (const auto& v : graph.input()) values_.insert(v.name());
    for (const auto& t : graph.initializer()) values_.insert(t.name());
    for (const auto& n : graph.node()) {
      nodes_.insert(n.name());
      for (const auto& o : n.output()) values_.insert(o);
      for (const auto& i : n.input()) values_.insert(i);
    }
  }
  std::string value(const std::string& base) { return unique(values_, base); }
  std::string node(const std::string& base) { return unique(nodes_, base); }

 private:
  static std::string unique(std::unordered_set<std::string>& used, const std::string& base) {
    std::string name = base;
    for (int i = 1; used.count(name) > 0; ++i) name = base + "_" + std::to_string(i);
    used.insert(name);
    return name;
  }
  std::unordered_set<std::string> values_, nodes_;
};

template <class T>
TensorProto make_initializer(const std::string& name, int32_t onnx_type, const std::vector<int64_t>& dims,
                             const std::vector<T>& values) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx_type);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return t;
}

NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                    const std::string& output, std::optional<int64_t> axis = std::nullopt) {
  NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : inputs) n.add_input(std::move(i));
  n.add_output(output);
  if (axis) {
    auto* a = n.add_attribute();
    a->set_name("axis");
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(*axis);
  }
  return n;
}

int64_t int_attr(const NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

float float_attr(const NodeProto& node, const std::string& name, float fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

// What a node's weight looks like: its input index and the axis of its output channels
// (given the weight's rank), or nullopt for a node with no quantizable weight.
struct WeightSlot {
  int input;
  int64_t axis;  // -1: per tensor
  int bias_input;
};
std::optional<WeightSlot> weight_slot(const NodeProto& node, int64_t weight_rank) {
  const std::string& op = node.op_type();
  if (op == "Conv" && weight_rank >= 3) return WeightSlot{1, 0, 2};
  if (op == "ConvTranspose" && weight_rank >= 3)  // [C_in, C_out / group, ...]: axis 1 is per output only for group 1
    return WeightSlot{1, int_attr(node, "group", 1) == 1 ? 1 : -1, 2};
  if (op == "Gemm" && weight_rank == 2) {
    const bool plain = float_attr(node, "alpha", 1.0f) == 1.0f && float_attr(node, "beta", 1.0f) == 1.0f;
    return WeightSlot{1, int_attr(node, "transB", 0) != 0 ? 0 : 1, plain ? 2 : -1};
  }
  if (op == "MatMul" && weight_rank >= 1) return WeightSlot{1, weight_rank == 2 ? 1 : -1, -1};
  return std::nullopt;
}

class QdqWriter {
 public:
  QdqWriter(ModelProto& model, const CalibrationCache& cache, const QdqExportOptions& options,
            const std::string& model_path, QdqExportSummary summary)
      : model_(model),
        graph_(*model.mutable_graph()),
        cache_(cache),
        options_(options),
        model_path_(model_path),
        external_(std::filesystem::path(model_path).parent_path().string()),
        names_(graph_),
        summary_(std::move(summary)) {}

  Result<QdqExportSummary> run() {
    FULCRUM_RETURN_IF_ERROR(index());
    FULCRUM_RETURN_IF_ERROR(check_cache());
    choose_activations();
    for (int i = 0; i < graph_.node_size(); ++i) FULCRUM_RETURN_IF_ERROR(quantize_weights(i));
    rewrite_nodes();
    remove_replaced_initializers();
    FULCRUM_RETURN_IF_ERROR(inline_external_data());
    return std::move(summary_);
  }

 private:
  Status index() {
    for (int i = 0; i < graph_.initializer_size(); ++i) initializers_[graph_.initializer(i).name()] = i;
    for (const auto& v : graph_.input()) graph_inputs_.insert(v.name());
    for (const auto& v : graph_.output()) graph_outputs_.insert(v.name());
    for (const auto& node : graph_.node()) {
      if (node.op_type() == "QuantizeLinear" || node.op_type() == "DequantizeLinear")
        return invalid_argument("{}: node '{}' ({}): the model is already quantized; export-qdq takes a float model",
                                model_path_, node.name(), node.op_type());
      if (node.op_type() == "Constant")
        for (const auto& o : node.output()) constant_outputs_.insert(o);
    }
    // Types from ONNX shape inference; its value_info is dropped again so the output carries
    // only what the input model did.
    const int value_info_before = graph_.value_info_size();
    fo::infer_shapes(model_, model_path_);
    auto note = [&](const ::onnx::ValueInfoProto& v) {
      if (v.type().has_tensor_type()) elem_types_[v.name()] = v.type().tensor_type().elem_type();
    };
    for (const auto& v : graph_.input()) note(v);
    for (const auto& v : graph_.output()) note(v);
    for (const auto& v : graph_.value_info()) note(v);
    graph_.mutable_value_info()->DeleteSubrange(value_info_before, graph_.value_info_size() - value_info_before);
    return Status::ok();
  }

  bool is_activation(const std::string& name) const {
    return !name.empty() && initializers_.count(name) == 0 && constant_outputs_.count(name) == 0;
  }

  // A cache entry naming no tensor of the model is worth a warning; most of them, an error.
  Status check_cache() {
    std::unordered_set<std::string> known(graph_inputs_.begin(), graph_inputs_.end());
    for (const auto& node : graph_.node())
      for (const auto& o : node.output()) known.insert(o);
    for (const auto& [name, index] : initializers_) known.insert(name);
    for (const auto& e : cache_.entries())
      if (known.count(e.tensor) == 0) summary_.unknown_entries.push_back(e.tensor);
    const size_t unknown = summary_.unknown_entries.size(), total = cache_.entries().size();
    if (total > 0 && 2 * unknown > total)
      return invalid_argument(
          "{}: {} of its {} entries name no tensor of {} (first: '{}'): is it another model's cache?",
          options_.cache_name, unknown, total, model_path_, summary_.unknown_entries.front());
    if (total == 0) return invalid_argument("{}: the calibration cache has no entries", options_.cache_name);
    return Status::ok();
  }

  // The float activations read or written by quantizable ops, in graph order.
  void choose_activations() {
    std::unordered_set<std::string> seen;
    auto consider = [&](const std::string& t) {
      if (!is_activation(t) || !seen.insert(t).second) return;
      auto type = elem_types_.find(t);
      const bool is_float = type == elem_types_.end() || type->second == TensorProto::FLOAT;
      if (graph_inputs_.count(t) > 0 && graph_outputs_.count(t) > 0) return;  // cannot rename either side
      if (auto scale = cache_.scale(t); scale && is_float) {
        activations_.emplace(t, *scale);
        order_.push_back(t);
      } else if (is_float) {
        summary_.uncalibrated.push_back(t);
      }
    };
    if (options_.engine_layers_only) {
      choose_engine_activations(consider);
    } else {
      for (const auto& node : graph_.node()) {
        if (!is_default_domain(node.domain()) || options_.op_types.count(node.op_type()) == 0) continue;
        for (const auto& i : node.input()) consider(i);
        for (const auto& o : node.output()) consider(o);
      }
    }
    summary_.activations = order_.size();
  }

  // A Conv / Gemm / MatMul whose weights (input 1) are an initializer: what the engine's INT8
  // lowering takes.
  bool weighted_layer(const NodeProto& node) const {
    const std::string& op = node.op_type();
    return is_default_domain(node.domain()) && (op == "Conv" || op == "Gemm" || op == "MatMul") &&
           node.input_size() > 1 && initializers_.count(node.input(1)) > 0;
  }

  template <class Consider>
  void choose_engine_activations(Consider& consider) {
    std::unordered_map<std::string, std::vector<const NodeProto*>> readers;
    for (const auto& node : graph_.node())
      for (const auto& i : node.input()) readers[i].push_back(&node);
    for (const auto& node : graph_.node()) {
      if (!weighted_layer(node)) continue;
      consider(node.input(0));
      const std::string& out = node.output(0);
      const auto& r = readers[out];
      const bool int8_readers =
          !r.empty() && graph_outputs_.count(out) == 0 &&
          std::all_of(r.begin(), r.end(), [&](const NodeProto* n) { return weighted_layer(*n) && n->input(0) == out; });
      if (int8_readers) consider(out);
    }
  }

  Result<Tensor> read_initializer(const std::string& name) {
    TensorProto copy = graph_.initializer(initializers_.at(name));
    return fo::tensor_from_proto(copy, &external_);
  }

  // The weight (and bias) of node `index`, when its activation input is quantized.
  Status quantize_weights(int index) {
    const NodeProto& node = graph_.node(index);
    if (!is_default_domain(node.domain()) || options_.op_types.count(node.op_type()) == 0) return Status::ok();
    if (node.input_size() < 2 || activations_.count(node.input(0)) == 0) return Status::ok();
    auto w_it = initializers_.find(node.input(1));
    if (w_it == initializers_.end() || graph_.initializer(w_it->second).data_type() != TensorProto::FLOAT)
      return Status::ok();
    auto slot = weight_slot(node, graph_.initializer(w_it->second).dims_size());
    if (!slot) return Status::ok();
    const int64_t axis = options_.per_channel ? slot->axis : -1;
    FULCRUM_ASSIGN_OR_RETURN(const WeightOut* w, weight(node.input(1), axis));
    overrides_[index][slot->input] = w->dq_output;
    if (slot->bias_input < 0 || node.input_size() <= slot->bias_input) return Status::ok();
    const std::string& bias = node.input(slot->bias_input);
    auto b_it = initializers_.find(bias);
    if (b_it == initializers_.end()) return Status::ok();
    const TensorProto& b = graph_.initializer(b_it->second);
    const int64_t channels = static_cast<int64_t>(w->scales.size());
    if (b.data_type() != TensorProto::FLOAT || b.dims_size() != 1 || (axis >= 0 && b.dims(0) != channels))
      return Status::ok();
    FULCRUM_ASSIGN_OR_RETURN(std::string dq, quantize_bias(bias, activations_.at(node.input(0)), w->scales));
    if (!dq.empty()) overrides_[index][slot->bias_input] = dq;
    return Status::ok();
  }

  struct WeightOut {
    std::string dq_output;
    std::vector<float> scales;
  };

  // Quantizes a weight once per axis, however many nodes read it.
  Result<const WeightOut*> weight(const std::string& name, int64_t axis) {
    auto key = std::make_pair(name, axis);
    if (auto it = weights_.find(key); it != weights_.end()) return &it->second;
    FULCRUM_ASSIGN_OR_RETURN(Tensor w, read_initializer(name));
    FULCRUM_ASSIGN_OR_RETURN(SymmetricQuantized q, quantize_symmetric(w.data<float>(), w.shape(), axis, name));
    const std::vector<int64_t> scale_dims = axis >= 0 ? std::vector<int64_t>{w.dim(axis)} : std::vector<int64_t>{};
    const std::string q_name = names_.value(name + "_quantized"), s_name = names_.value(name + "_scale"),
                      zp_name = names_.value(name + "_zero_point");
    new_initializers_.push_back(make_initializer(q_name, TensorProto::INT8, w.shape(), q.values));
    new_initializers_.push_back(make_initializer(s_name, TensorProto::FLOAT, scale_dims, q.scales));
    new_initializers_.push_back(
        make_initializer(zp_name, TensorProto::INT8, scale_dims, std::vector<int8_t>(q.scales.size(), 0)));
    WeightOut out{names_.value(name + "_DequantizeLinear_Output"), q.scales};
    weight_dqs_.push_back(make_node("DequantizeLinear", names_.node(name + "_DequantizeLinear"),
                                    {q_name, s_name, zp_name}, out.dq_output,
                                    axis >= 0 ? std::optional<int64_t>(axis) : std::nullopt));
    replaced_.insert(name);
    ++summary_.weights;
    return &weights_.emplace(key, std::move(out)).first->second;
  }

  // int32 bias with scale x_scale * w_scale[c], zero point 0, as ONNX Runtime's quantizer
  // writes it; "" (the bias stays float) when a value would not fit int32.
  Result<std::string> quantize_bias(const std::string& name, float x_scale, const std::vector<float>& w_scales) {
    FULCRUM_ASSIGN_OR_RETURN(Tensor b, read_initializer(name));
    const int64_t n = b.numel();
    std::vector<float> scales(static_cast<size_t>(n));
    std::vector<int32_t> values(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c) {
      const float s = x_scale * w_scales[w_scales.size() == 1 ? 0 : static_cast<size_t>(c)];
      const double q = std::nearbyint(static_cast<double>(b.data<float>()[c]) / s);
      if (!std::isfinite(q) || std::abs(q) > std::numeric_limits<int32_t>::max()) return std::string();
      scales[static_cast<size_t>(c)] = s;
      values[static_cast<size_t>(c)] = static_cast<int32_t>(q);
    }
    const std::string q_name = names_.value(name + "_quantized"), s_name = names_.value(name + "_quantized_scale"),
                      zp_name = names_.value(name + "_quantized_zero_point");
    new_initializers_.push_back(make_initializer(q_name, TensorProto::INT32, {n}, values));
    new_initializers_.push_back(make_initializer(s_name, TensorProto::FLOAT, {n}, scales));
    new_initializers_.push_back(make_initializer(zp_name, TensorProto::INT32, {n}, std::vector<int32_t>(n, 0)));
    const std::string out = names_.value(name + "_DequantizeLinear_Output");
    weight_dqs_.push_back(
        make_node("DequantizeLinear", names_.node(name + "_DequantizeLinear"), {q_name, s_name, zp_name}, out, 0));
    replaced_.insert(name);
    ++summary_.biases;
    return out;
  }

  // Appends x -> QuantizeLinear -> DequantizeLinear for activation `t`, one pair per reading
  // node (ONNX Runtime's DedicatedQDQPair): on x86, ONNX Runtime fuses an int8 conv only after
  // turning its activation pairs into uint8 (QDQS8ToU8Transformer), which it does only for a
  // QuantizeLinear with a single DequantizeLinear. For a graph output, the producer was renamed
  // to write `<t>_QuantizeLinear_Input` and one pair writes `t`.
  void emit_pair(const std::string& t, google::protobuf::RepeatedPtrField<NodeProto>& out) {
    const std::string s_name = names_.value(t + "_scale"), zp_name = names_.value(t + "_zero_point");
    new_initializers_.push_back(make_initializer(s_name, TensorProto::FLOAT, {}, std::vector<float>{activations_[t]}));
    if (options_.uint8_activations)
      new_initializers_.push_back(make_initializer(zp_name, TensorProto::UINT8, {}, std::vector<uint8_t>{128}));
    else
      new_initializers_.push_back(make_initializer(zp_name, TensorProto::INT8, {}, std::vector<int8_t>{0}));
    std::vector<int> readers = graph_outputs_.count(t) ? std::vector<int>{} : readers_[t];
    if (readers.empty()) readers.push_back(-1);
    for (int reader : readers) {
      const std::string q_out = names_.value(t + "_QuantizeLinear_Output");
      *out.Add() =
          make_node("QuantizeLinear", names_.node(t + "_QuantizeLinear"), {q_input(t), s_name, zp_name}, q_out);
      *out.Add() = make_node("DequantizeLinear", names_.node(t + "_DequantizeLinear"), {q_out, s_name, zp_name},
                             dq_output(t, reader));
    }
  }

  std::string q_input(const std::string& t) { return graph_outputs_.count(t) ? renamed_outputs_.at(t) : t; }
  // The DequantizeLinear output that node `reader` reads for `t`.
  std::string dq_output(const std::string& t, int reader) {
    if (graph_outputs_.count(t)) return t;
    auto [it, inserted] = dq_outputs_.emplace(std::make_pair(t, reader), std::string());
    if (inserted) it->second = names_.value(t + "_DequantizeLinear_Output");
    return it->second;
  }

  // The new node list: weight DequantizeLinears, pairs for quantized graph inputs, then each
  // node (reading DequantizeLinear outputs) followed by the pairs of its quantized outputs.
  void rewrite_nodes() {
    for (const auto& t : order_)
      if (graph_outputs_.count(t)) renamed_outputs_[t] = names_.value(t + "_QuantizeLinear_Input");
    for (int i = 0; i < graph_.node_size(); ++i)
      for (const auto& in : graph_.node(i).input())
        if (activations_.count(in) && (readers_[in].empty() || readers_[in].back() != i)) readers_[in].push_back(i);
    google::protobuf::RepeatedPtrField<NodeProto> old, out;
    old.Swap(graph_.mutable_node());
    for (auto& n : weight_dqs_) *out.Add() = std::move(n);
    for (const auto& t : order_)
      if (graph_inputs_.count(t)) emit_pair(t, out);
    for (int i = 0; i < old.size(); ++i) {
      NodeProto& node = old[i];
      auto over = overrides_.find(i);
      for (int k = 0; k < node.input_size(); ++k) {
        if (over != overrides_.end() && over->second.count(k))
          node.set_input(k, over->second.at(k));
        else if (activations_.count(node.input(k)))
          node.set_input(k, dq_output(node.input(k), i));
      }
      std::vector<std::string> quantized_outputs;
      for (int k = 0; k < node.output_size(); ++k) {
        const std::string t = node.output(k);
        if (activations_.count(t) == 0) continue;
        quantized_outputs.push_back(t);
        if (graph_outputs_.count(t)) node.set_output(k, renamed_outputs_.at(t));
      }
      *out.Add() = std::move(node);
      for (const auto& t : quantized_outputs) emit_pair(t, out);
    }
    graph_.mutable_node()->Swap(&out);
  }

  // Float weights no node reads any more go (from the graph inputs too, where an old model
  // lists its initializers there); the new initializers come in.
  void remove_replaced_initializers() {
    std::unordered_set<std::string> reads;
    collect_reads(graph_, reads);
    auto dead = [&](const std::string& name) { return replaced_.count(name) > 0 && reads.count(name) == 0; };
    auto* inits = graph_.mutable_initializer();
    inits->erase(std::remove_if(inits->begin(), inits->end(), [&](const TensorProto& t) { return dead(t.name()); }),
                 inits->end());
    auto* inputs = graph_.mutable_input();
    inputs->erase(
        std::remove_if(inputs->begin(), inputs->end(), [&](const ::onnx::ValueInfoProto& v) { return dead(v.name()); }),
        inputs->end());
    for (auto& t : new_initializers_) *graph_.add_initializer() = std::move(t);
  }

  // The output may be written elsewhere than the model: its external data goes inline.
  Status inline_external_data() {
    for (auto& t : *graph_.mutable_initializer()) {
      if (t.data_location() != TensorProto::EXTERNAL) continue;
      TensorProto copy = t;
      FULCRUM_ASSIGN_OR_RETURN(Tensor data, fo::tensor_from_proto(copy, &external_));
      t.clear_external_data();
      t.set_data_location(TensorProto::DEFAULT);
      t.set_raw_data(std::string(static_cast<const char*>(data.raw()), data.nbytes()));
    }
    return Status::ok();
  }

  ModelProto& model_;
  GraphProto& graph_;
  const CalibrationCache& cache_;
  const QdqExportOptions& options_;
  std::string model_path_;
  fo::ExternalData external_;
  Names names_;
  QdqExportSummary summary_;

  std::unordered_map<std::string, int> initializers_;  // name -> index in graph.initializer
  std::unordered_set<std::string> graph_inputs_, graph_outputs_, constant_outputs_;
  std::unordered_map<std::string, int32_t> elem_types_;

  std::unordered_map<std::string, float> activations_;  // quantized activation -> scale
  std::vector<std::string> order_;                      // the same, in graph order
  std::unordered_map<std::string, std::string> renamed_outputs_;
  std::unordered_map<std::string, std::vector<int>> readers_;  // activation -> indices of the nodes reading it
  std::map<std::pair<std::string, int>, std::string> dq_outputs_;
  std::map<std::pair<std::string, int64_t>, WeightOut> weights_;
  std::map<int, std::map<int, std::string>> overrides_;  // node index -> input index -> new input
  std::unordered_set<std::string> replaced_;             // float initializers given a quantized form
  std::vector<NodeProto> weight_dqs_;
  std::vector<TensorProto> new_initializers_;
};

Status convert_opset(ModelProto& model, const std::string& path, QdqExportSummary& summary) {
  summary.opset_before = summary.opset_after = default_opset(model);
  if (summary.opset_before == 0)
    return invalid_argument("{}: the model imports no default-domain (ai.onnx) opset", path);
  if (summary.opset_before >= kMinOpset) return Status::ok();
  try {
    model = ::onnx::version_conversion::ConvertVersion(model, static_cast<int>(kMinOpset));
  } catch (const std::exception& e) {
    return invalid_argument(
        "{}: opset {} is older than the {} per-channel quantization needs, and ONNX's version "
        "converter cannot convert it: {}",
        path, summary.opset_before, kMinOpset, e.what());
  }
  summary.opset_after = default_opset(model);
  return Status::ok();
}

Status write_model(const ModelProto& model, const std::string& path) {
  if (model.ByteSizeLong() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return invalid_argument("{}: the quantized model exceeds protobuf's 2 GiB limit", path);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return io_error("{}: cannot open for writing", tmp);
    if (!model.SerializeToOstream(&file) || !file.flush()) {
      file.close();
      std::remove(tmp.c_str());
      return io_error("{}: cannot write the model", tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return io_error("{}: cannot rename {} to it", path, tmp);
  }
  return Status::ok();
}

}  // namespace

const std::set<std::string>& default_qdq_op_types() {
  static const std::set<std::string> types = {"ArgMax",
                                              "AveragePool",
                                              "BatchNormalization",
                                              "Clip",
                                              "Concat",
                                              "Conv",
                                              "ConvTranspose",
                                              "CumSum",
                                              "Flatten",
                                              "Gather",
                                              "GatherElements",
                                              "Gemm",
                                              "GlobalAveragePool",
                                              "InstanceNormalization",
                                              "LayerNormalization",
                                              "LeakyRelu",
                                              "MatMul",
                                              "MaxPool",
                                              "Mul",
                                              "Add",
                                              "Pad",
                                              "Relu",
                                              "Reshape",
                                              "Resize",
                                              "Sigmoid",
                                              "Slice",
                                              "Softmax",
                                              "Split",
                                              "Squeeze",
                                              "TopK",
                                              "Transpose",
                                              "Unsqueeze",
                                              "Where"};
  return types;
}

Result<SymmetricQuantized> quantize_symmetric(const float* w, const std::vector<int64_t>& shape, int64_t axis,
                                              const std::string& name) {
  int64_t outer = 1, channels = 1, inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    (axis < 0 || d == axis ? channels : d < axis ? outer : inner) *= shape[static_cast<size_t>(d)];
  if (axis < 0) std::swap(channels, inner);  // one "channel" holding everything
  SymmetricQuantized q;
  q.values.resize(static_cast<size_t>(outer * channels * inner));
  q.scales.assign(static_cast<size_t>(channels), 0.0f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = w[(o * channels + c) * inner + i];
        if (!std::isfinite(v)) return invalid_argument("weight '{}': non-finite value {}", name, v);
        q.scales[static_cast<size_t>(c)] = std::max(q.scales[static_cast<size_t>(c)], std::abs(v));
      }
  for (float& s : q.scales) s = s > 0.0f ? s / 127.0f : 1.0f / 127.0f;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * channels + c) * inner + i;
        const float r = std::nearbyint(w[k] / q.scales[static_cast<size_t>(c)]);
        q.values[static_cast<size_t>(k)] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
      }
  return q;
}

Result<QdqExportSummary> export_qdq(const std::string& model_path, const CalibrationCache& cache,
                                    const QdqExportOptions& options, const std::string& out_path) {
  ModelProto model;
  FULCRUM_RETURN_IF_ERROR(fo::read_model_proto(model_path, model));
  QdqExportSummary summary;
  FULCRUM_RETURN_IF_ERROR(convert_opset(model, model_path, summary));
  try {
    FULCRUM_ASSIGN_OR_RETURN(summary, QdqWriter(model, cache, options, model_path, std::move(summary)).run());
  } catch (const std::exception& e) {  // protobuf, or a malformed model that ONNX's inference rejects
    return internal_error("{}: cannot quantize the model: {}", model_path, e.what());
  }
  const std::string out_dir = std::filesystem::path(out_path).parent_path().string();
  FULCRUM_RETURN_IF_ERROR(fo::check_model_proto(model, out_dir.empty() ? "." : out_dir, out_path));
  FULCRUM_RETURN_IF_ERROR(write_model(model, out_path));
  return summary;
}

Result<QdqExportSummary> export_qdq(const std::string& model_path, const std::string& cache_path,
                                    QdqExportOptions options, const std::string& out_path) {
  FULCRUM_ASSIGN_OR_RETURN(CalibrationCache cache, CalibrationCache::load(cache_path));
  options.cache_name = cache_path;
  return export_qdq(model_path, cache, options, out_path);
}

}  // namespace fulcrum::quant
