// ONNX -> IR. Reads a model file with libonnx's protobuf classes, runs the ONNX checker and
// shape inference, and builds an ir::Graph. Weights are moved out of the protobuf, never
// copied; external-data weights are memory-mapped.
#pragma once

#include <memory>
#include <string>

#include "fulcrum/network.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::frontend::onnx {

Result<std::unique_ptr<ir::Graph>> import_model_file(const std::string& path, const ParserOptions& options);

// Reads one serialized TensorProto (the ONNX test-data .pb files).
Result<Tensor> load_tensor_proto_file(const std::string& path);

}  // namespace fulcrum::frontend::onnx
