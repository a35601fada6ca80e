// The graph IR: Values (tensors) connected by Nodes (ops). A Graph owns both; Nodes are
// kept in topological order. Constants (ONNX initializers) are Values holding a Tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fulcrum/precision.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ops/attributes.h"
#include "ops/registry.h"

namespace fulcrum::ir {

class Node;

// One dimension: fixed (value >= 0) or symbolic (value == -1, param may name it).
struct Dim {
  int64_t value = -1;
  std::string param;
  bool is_fixed() const { return value >= 0; }
};

struct TensorType {
  DType dtype = DType::kUndefined;
  std::optional<std::vector<Dim>> dims;  // nullopt: rank unknown
  std::string to_string() const;         // "float32[N, 3, 224, 224]"
};

class Value {
 public:
  const std::string& name() const { return name_; }
  TensorType type;
  Node* producer = nullptr;  // null for graph inputs and constants
  Tensor constant;           // defined for initializers
  bool is_constant() const { return constant.defined(); }

 private:
  friend class Graph;
  explicit Value(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

class Node {
 public:
  std::string name;
  std::string op_type;
  std::string domain;
  int64_t opset = 0;            // the model's opset version for this node's domain
  std::vector<Value*> inputs;   // nullptr marks an omitted optional input
  std::vector<Value*> outputs;  // nullptr marks an omitted optional output
  ops::Attributes attrs;
  const ops::OpSchema* schema = nullptr;            // null: no op of that name is known
  std::shared_ptr<const ops::OpAttrs> typed_attrs;  // set by parse_attributes()
  // What the layer computes in, and why the builder chose it (plan_precision sets both).
  Precision precision = Precision::kFp32;
  std::string precision_reason;

  // "node 'conv1' (Conv)": how errors name a node.
  std::string label() const;
  // Looks up the schema and parses attrs into typed_attrs. Errors name the node.
  Status parse_attributes();
  template <class T>
  const T& attrs_as() const {
    return static_cast<const T&>(*typed_attrs);
  }
};

// A weight whose INT8 quantization the model fixed (a Q/DQ model's DequantizeLinear): one
// scale per slice along `axis` (one scale in all for per-tensor).
struct WeightQuant {
  std::vector<float> scales;
  int64_t axis = 0;
};

class Graph {
 public:
  std::string name;
  std::map<std::string, int64_t> opsets;  // domain -> version
  std::string model_dir;                  // where external data is resolved
  std::string source_path;                // the model file it was imported from ("" if none)
  std::vector<Value*> inputs;             // graph inputs, without initializers
  std::vector<Value*> outputs;

  // INT8: the scale (amax / 127) of tensors, by value name, from a calibration cache, the
  // user's dynamic ranges or a Q/DQ model's QuantizeLinear nodes. Passes that replace a
  // value keep its name, so the scale follows the tensor through the build.
  std::map<std::string, float> tensor_scales;
  // INT8 weights whose scales a Q/DQ model fixed, by constant's value name.
  std::map<std::string, WeightQuant> weight_scales;

  // A new value with a unique name (an error if the name is taken).
  Result<Value*> add_value(const std::string& name);
  Value* find_value(const std::string& name) const;
  Node* add_node(std::unique_ptr<Node> node);

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }
  // The constant values (initializers), in creation order.
  std::vector<const Value*> constants() const;

  // Orders nodes so each comes after the producers of its inputs; fails on a cycle.
  Status sort_topologically();

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> by_name_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// Checks the graph's invariants: single producer per value, inputs defined before use,
// outputs produced, constants not overwritten. Errors name the node and tensor.
Status verify(const Graph& graph);

// One line per input, constant summary, node and output.
std::string to_string(const Graph& graph);

}  // namespace fulcrum::ir
