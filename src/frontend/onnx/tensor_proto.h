// TensorProto -> Tensor, moving raw bytes out of the protobuf and mapping external data.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <onnx/onnx_pb.h>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::frontend::onnx {

// ONNX TensorProto data type -> DType (kUndefined for types Fulcrum does not hold).
DType dtype_from_onnx(int32_t onnx_type);

// Keeps each external-data file mapped once, however many tensors it holds.
class ExternalData {
 public:
  explicit ExternalData(std::string model_dir) : model_dir_(std::move(model_dir)) {}
  // The bytes [offset, offset + length) of `location`, kept alive by the returned owner.
  Result<std::pair<std::shared_ptr<const void>, const void*>> map(const std::string& location, size_t offset,
                                                                  size_t* length, const std::string& tensor);

 private:
  std::string model_dir_;
  std::map<std::string, std::shared_ptr<const void>> files_;  // path -> mapping
  std::map<std::string, size_t> sizes_;
};

// Converts `proto` into a Tensor. raw_data is moved out of `proto` (left empty).
Result<Tensor> tensor_from_proto(::onnx::TensorProto& proto, ExternalData* external);

}  // namespace fulcrum::frontend::onnx
