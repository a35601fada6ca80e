#include <algorithm>

#include "backends/reference/kernel.h"
#include "core/error.h"
#include "frontend/onnx/importer.h"
#include "fulcrum/network.h"
#include "ir/graph.h"
#include "runtime/tensor_desc.h"

namespace fulcrum {

Network::Network(std::shared_ptr<const ir::Graph> graph) : graph_(std::move(graph)) {}
Network::~Network() = default;

Result<std::unique_ptr<Network>> Network::from_onnx_file(const std::string& path, const ParserOptions& options) {
  try {
    FULCRUM_ASSIGN_OR_RETURN(auto graph, frontend::onnx::import_model_file(path, options));
    return std::unique_ptr<Network>(new Network(std::move(graph)));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kInternal, path + ": out of memory while importing the model");
  } catch (const std::exception& e) {
    return Status(StatusCode::kParseError, path + ": " + e.what());
  }
}

const std::string& Network::name() const { return graph_->name; }

std::vector<TensorDesc> Network::inputs() const {
  std::vector<TensorDesc> out;
  for (const ir::Value* v : graph_->inputs) out.push_back(runtime::describe(*v));
  return out;
}

std::vector<TensorDesc> Network::outputs() const {
  std::vector<TensorDesc> out;
  for (const ir::Value* v : graph_->outputs) out.push_back(runtime::describe(*v));
  return out;
}

std::vector<LayerDesc> Network::layers() const {
  std::vector<LayerDesc> out;
  for (const auto& n : graph_->nodes()) {
    LayerDesc d{n->name, n->op_type, n->domain, {}, {}};
    for (const ir::Value* v : n->inputs) d.inputs.push_back(v ? v->name() : "");
    for (const ir::Value* v : n->outputs) d.outputs.push_back(v ? v->name() : "");
    out.push_back(std::move(d));
  }
  return out;
}

std::map<std::string, int64_t> Network::opsets() const { return graph_->opsets; }

size_t Network::weight_bytes() const {
  size_t total = 0;
  for (const ir::Value* v : graph_->constants()) total += v->constant.nbytes();
  return total;
}

std::map<std::string, std::vector<std::string>> Network::unsupported_ops() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& n : graph_->nodes()) {
    bool known = n->typed_attrs != nullptr && backends::reference::find_kernel(n->domain, n->op_type) != nullptr;
    if (!known) out[n->domain.empty() ? n->op_type : n->domain + "." + n->op_type].push_back(n->name);
  }
  return out;
}

std::string Network::to_string() const { return ir::to_string(*graph_); }

}  // namespace fulcrum
