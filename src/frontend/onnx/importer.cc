#include "frontend/onnx/importer.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <unordered_map>

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "core/error.h"
#include "frontend/onnx/model_file.h"
#include "frontend/onnx/tensor_proto.h"

namespace fulcrum::frontend::onnx {
namespace {

using ::onnx::AttributeProto;
using ::onnx::GraphProto;
using ::onnx::NodeProto;
using ::onnx::TypeProto;
using ::onnx::ValueInfoProto;

ir::TensorType type_from_proto(const TypeProto& type) {
  ir::TensorType out;
  if (!type.has_tensor_type()) return out;
  out.dtype = dtype_from_onnx(type.tensor_type().elem_type());
  if (!type.tensor_type().has_shape()) return out;
  std::vector<ir::Dim> dims;
  for (const auto& d : type.tensor_type().shape().dim()) {
    ir::Dim dim;
    if (d.has_dim_value())
      dim.value = d.dim_value();
    else if (d.has_dim_param())
      dim.param = d.dim_param();
    dims.push_back(dim);
  }
  out.dims = std::move(dims);
  return out;
}

Result<ops::AttrValue> attr_from_proto(AttributeProto& a, const ir::Node& node) {
  switch (a.type()) {
    case AttributeProto::FLOAT: return ops::AttrValue(a.f());
    case AttributeProto::INT: return ops::AttrValue(static_cast<int64_t>(a.i()));
    case AttributeProto::STRING: return ops::AttrValue(a.s());
    case AttributeProto::FLOATS: return ops::AttrValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case AttributeProto::INTS: return ops::AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case AttributeProto::STRINGS:
      return ops::AttrValue(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case AttributeProto::TENSOR: {
      auto t = tensor_from_proto(*a.mutable_t(), nullptr);
      if (!t.is_ok()) return t.status().with_context(fmt::format("{}: attribute '{}'", node.label(), a.name()));
      return ops::AttrValue(std::move(t).value());
    }
    case AttributeProto::GRAPH: return ops::AttrValue(ops::OpaqueAttr{"graph"});
    case AttributeProto::GRAPHS: return ops::AttrValue(ops::OpaqueAttr{"graphs"});
    case AttributeProto::TENSORS: return ops::AttrValue(ops::OpaqueAttr{"tensors"});
    case AttributeProto::SPARSE_TENSOR: return ops::AttrValue(ops::OpaqueAttr{"sparse_tensor"});
    case AttributeProto::SPARSE_TENSORS: return ops::AttrValue(ops::OpaqueAttr{"sparse_tensors"});
    case AttributeProto::TYPE_PROTO: return ops::AttrValue(ops::OpaqueAttr{"type_proto"});
    case AttributeProto::TYPE_PROTOS: return ops::AttrValue(ops::OpaqueAttr{"type_protos"});
    default: return invalid_argument("{}: attribute '{}' has no valid type", node.label(), a.name());
  }
}

class GraphBuilder {
 public:
  GraphBuilder(::onnx::ModelProto& model, const std::string& path)
      : model_(model), path_(path), external_(std::filesystem::path(path).parent_path().string()) {}

  Result<std::unique_ptr<ir::Graph>> build() {
    graph_ = std::make_unique<ir::Graph>();
    GraphProto& g = *model_.mutable_graph();
    graph_->name = g.name();
    graph_->model_dir = std::filesystem::path(path_).parent_path().string();
    graph_->source_path = path_;
    for (const auto& oi : model_.opset_import())
      graph_->opsets[oi.domain() == "ai.onnx" ? "" : oi.domain()] = oi.version();
    for (const ValueInfoProto& vi : g.value_info()) types_[vi.name()] = &vi.type();
    for (const ValueInfoProto& vi : g.output()) types_[vi.name()] = &vi.type();

    if (g.sparse_initializer_size() > 0)
      return unimplemented("{}: sparse initializers ('{}') are not supported", path_,
                           g.sparse_initializer(0).values().name());
    FULCRUM_RETURN_IF_ERROR(add_initializers(g));
    FULCRUM_RETURN_IF_ERROR(add_inputs(g));
    FULCRUM_RETURN_IF_ERROR(add_nodes(g));
    for (const ValueInfoProto& vi : g.output()) {
      ir::Value* v = graph_->find_value(vi.name());
      if (v == nullptr) return invalid_argument("{}: graph output '{}' is never produced", path_, vi.name());
      graph_->outputs.push_back(v);
    }
    FULCRUM_RETURN_IF_ERROR(graph_->sort_topologically().with_context(path_));
    FULCRUM_RETURN_IF_ERROR(ir::verify(*graph_).with_context(path_));
    return std::move(graph_);
  }

 private:
  Status add_initializers(GraphProto& g) {
    for (auto& init : *g.mutable_initializer()) {
      std::string name = init.name();
      auto tensor = tensor_from_proto(init, &external_);
      if (!tensor.is_ok()) return tensor.status().with_context(path_);
      FULCRUM_ASSIGN_OR_RETURN(ir::Value * v, graph_->add_value(name));
      v->constant = std::move(tensor).value();
      v->type.dtype = v->constant.dtype();
      std::vector<ir::Dim> dims;
      for (int64_t d : v->constant.shape()) dims.push_back(ir::Dim{d, ""});
      v->type.dims = std::move(dims);
    }
    // The weights now live in Tensors; drop what is left of the protobuf copies.
    g.clear_initializer();
    return Status::ok();
  }

  Status add_inputs(const GraphProto& g) {
    for (const ValueInfoProto& vi : g.input()) {
      if (ir::Value* existing = graph_->find_value(vi.name())) {
        // IR < 4 lists initializers among the inputs; they stay constants.
        if (existing->is_constant()) continue;
        return invalid_argument("{}: graph input '{}' is listed twice", path_, vi.name());
      }
      FULCRUM_ASSIGN_OR_RETURN(ir::Value * v, graph_->add_value(vi.name()));
      v->type = type_from_proto(vi.type());
      if (v->type.dtype == DType::kUndefined)
        return unimplemented("{}: graph input '{}' has a type Fulcrum does not support", path_, vi.name());
      graph_->inputs.push_back(v);
    }
    return Status::ok();
  }

  Status add_nodes(GraphProto& g) {
    std::vector<ir::Node*> created;
    // Pass 1: every node and its outputs, so inputs may refer to nodes listed later.
    for (int i = 0; i < g.node_size(); ++i) {
      NodeProto& np = *g.mutable_node(i);
      auto node = std::make_unique<ir::Node>();
      node->name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), i) : np.name();
      node->op_type = np.op_type();
      node->domain = np.domain() == "ai.onnx" ? "" : np.domain();
      auto opset = graph_->opsets.find(node->domain);
      if (opset == graph_->opsets.end())
        return invalid_argument("{}: {}: the model imports no opset for domain '{}'", path_, node->label(),
                                node->domain);
      node->opset = opset->second;
      for (const std::string& out : np.output()) {
        if (out.empty()) {
          node->outputs.push_back(nullptr);
          continue;
        }
        auto v = graph_->add_value(out);
        if (!v.is_ok()) return v.status().with_context(fmt::format("{}: {}", path_, node->label()));
        auto it = types_.find(out);
        if (it != types_.end()) (*v)->type = type_from_proto(*it->second);
        node->outputs.push_back(*v);
      }
      for (AttributeProto& a : *np.mutable_attribute()) {
        FULCRUM_ASSIGN_OR_RETURN(ops::AttrValue value, attr_from_proto(a, *node));
        node->attrs.emplace(a.name(), std::move(value));
      }
      ir::Node* n = graph_->add_node(std::move(node));
      for (ir::Value* out : n->outputs)
        if (out) out->producer = n;
      created.push_back(n);
    }
    // Pass 2: connect inputs and parse typed attributes of the ops we know.
    for (int i = 0; i < g.node_size(); ++i) {
      ir::Node* n = created[static_cast<size_t>(i)];
      for (const std::string& in : g.node(i).input()) {
        if (in.empty()) {
          n->inputs.push_back(nullptr);
          continue;
        }
        ir::Value* v = graph_->find_value(in);
        if (v == nullptr)
          return invalid_argument("{}: {}: input '{}' is not a graph input, initializer or node output", path_,
                                  n->label(), in);
        n->inputs.push_back(v);
      }
      if (ops::find_schema(n->domain, n->op_type) == nullptr) continue;  // reported as unsupported later
      Status s = n->parse_attributes();
      if (!s.is_ok() && s.code() != StatusCode::kUnimplemented) return s.with_context(path_);
    }
    return Status::ok();
  }

  ::onnx::ModelProto& model_;
  std::string path_;
  ExternalData external_;
  std::unique_ptr<ir::Graph> graph_;
  std::unordered_map<std::string, const TypeProto*> types_;
};

}  // namespace

Result<std::unique_ptr<ir::Graph>> import_model_file(const std::string& path, const ParserOptions& options) {
  if (!std::filesystem::exists(path)) return not_found("{}: no such file", path);
  if (std::filesystem::is_directory(path)) return invalid_argument("{}: is a directory, not an ONNX file", path);
  ::onnx::ModelProto model;
  FULCRUM_RETURN_IF_ERROR(read_model_proto(path, model));
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (options.check_model) FULCRUM_RETURN_IF_ERROR(check_model_proto(model, dir, path));
  infer_shapes(model, path);
  GraphBuilder builder(model, path);
  return builder.build();
}

Result<Tensor> load_tensor_proto_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("{}: cannot open file", path);
  ::onnx::TensorProto proto;
  bool ok;
  {
    google::protobuf::io::FileInputStream file(fd);
    ok = proto.ParseFromZeroCopyStream(&file);
  }
  ::close(fd);
  if (!ok) return parse_error("{}: not a serialized ONNX TensorProto", path);
  auto t = tensor_from_proto(proto, nullptr);
  if (!t.is_ok()) return t.status().with_context(path);
  return t;
}

}  // namespace fulcrum::frontend::onnx
