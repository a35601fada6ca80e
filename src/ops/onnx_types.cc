#include "ops/onnx_types.h"

#include <array>

namespace fulcrum::ops {

namespace {

struct OnnxType {
  const char* name;
  DType dtype;
};

// Indexed by TensorProto.DataType code.
constexpr std::array<OnnxType, 24> kOnnxTypes = {{
    {"UNDEFINED", DType::kUndefined},
    {"FLOAT", DType::kFloat32},
    {"UINT8", DType::kUInt8},
    {"INT8", DType::kInt8},
    {"UINT16", DType::kUInt16},
    {"INT16", DType::kInt16},
    {"INT32", DType::kInt32},
    {"INT64", DType::kInt64},
    {"STRING", DType::kUndefined},
    {"BOOL", DType::kBool},
    {"FLOAT16", DType::kFloat16},
    {"DOUBLE", DType::kFloat64},
    {"UINT32", DType::kUInt32},
    {"UINT64", DType::kUInt64},
    {"COMPLEX64", DType::kUndefined},
    {"COMPLEX128", DType::kUndefined},
    {"BFLOAT16", DType::kBFloat16},
    {"FLOAT8E4M3FN", DType::kUndefined},
    {"FLOAT8E4M3FNUZ", DType::kUndefined},
    {"FLOAT8E5M2", DType::kUndefined},
    {"FLOAT8E5M2FNUZ", DType::kUndefined},
    {"UINT4", DType::kUndefined},
    {"INT4", DType::kUndefined},
    {"FLOAT4E2M1", DType::kUndefined},
}};

}  // namespace

bool valid_onnx_code(int64_t code) { return code > 0 && code < static_cast<int64_t>(kOnnxTypes.size()); }

DType dtype_from_onnx_code(int64_t code) {
  return valid_onnx_code(code) ? kOnnxTypes[static_cast<size_t>(code)].dtype : DType::kUndefined;
}

std::string onnx_type_name(int64_t code) {
  return valid_onnx_code(code) ? kOnnxTypes[static_cast<size_t>(code)].name : "type code " + std::to_string(code);
}

int64_t onnx_code_from_name(const std::string& name) {
  for (size_t code = 1; code < kOnnxTypes.size(); ++code)
    if (name == kOnnxTypes[code].name) return static_cast<int64_t>(code);
  return 0;
}

}  // namespace fulcrum::ops
