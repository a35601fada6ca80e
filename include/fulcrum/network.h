// Network: a parsed model, ready to be built into an engine. Made by the ONNX parser.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/precision.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum {

namespace ir {
class Graph;
}

// A graph input or output. shape[i] is -1 where the dimension is not fixed; dim_names[i]
// then holds its symbolic name (ONNX dim_param), or "" if it has none.
struct TensorDesc {
  std::string name;
  DType dtype = DType::kUndefined;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  bool has_shape = true;  // false when the model gives no rank at all
};

// One layer (ONNX node) of the network.
struct LayerDesc {
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  // For an engine's layers: what the layer computes in and why (FP32 for a parsed network).
  Precision precision = Precision::kFp32;
  std::string precision_reason;
};

struct ParserOptions {
  // Runs the ONNX checker on the model before import (recommended).
  bool check_model = true;
};

class Network {
 public:
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Parses an ONNX model file (external-data weights are read next to it).
  static Result<std::unique_ptr<Network>> from_onnx_file(const std::string& path, const ParserOptions& options = {});

  const std::string& name() const;
  std::vector<TensorDesc> inputs() const;
  std::vector<TensorDesc> outputs() const;
  std::vector<LayerDesc> layers() const;
  // Opset version per domain ("" is the default ONNX domain).
  std::map<std::string, int64_t> opsets() const;
  // Total bytes of the weights (initializers).
  size_t weight_bytes() const;
  // Ops no backend can run, each with the names of the nodes that use it.
  std::map<std::string, std::vector<std::string>> unsupported_ops() const;
  // A readable listing of the graph, one line per node.
  std::string to_string() const;

  // Internal: the graph this network holds (engines share it; weights are not copied).
  const std::shared_ptr<const ir::Graph>& graph() const { return graph_; }

 private:
  explicit Network(std::shared_ptr<const ir::Graph> graph);
  std::shared_ptr<const ir::Graph> graph_;
};

}  // namespace fulcrum
