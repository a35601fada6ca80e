// Reading an ONNX ModelProto from disk, checking it, and running ONNX shape inference.
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "fulcrum/status.h"

namespace fulcrum::frontend::onnx {

// Parses the file as a ModelProto, streaming it (no second copy of the file in memory).
Status read_model_proto(const std::string& path, ::onnx::ModelProto& model);
// The ONNX checker, with external data resolved against `model_dir`.
Status check_model_proto(const ::onnx::ModelProto& model, const std::string& model_dir, const std::string& path);
// ONNX shape inference; fills graph.value_info. Failures are warnings, never fatal.
void infer_shapes(::onnx::ModelProto& model, const std::string& path);

}  // namespace fulcrum::frontend::onnx
