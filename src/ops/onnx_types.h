// ONNX's TensorProto.DataType codes, as attributes carry them (Cast's `to`, EyeLike's
// `dtype`...) and as the importer reads tensor types: one table for the whole code base.
#pragma once

#include <cstdint>
#include <string>

#include "fulcrum/tensor.h"

namespace fulcrum::ops {

// True for a code ONNX defines (UNDEFINED = 0 is not one).
bool valid_onnx_code(int64_t code);
// ONNX TensorProto.DataType code -> DType (kUndefined for string, complex, float8...).
DType dtype_from_onnx_code(int64_t code);
// "FLOAT", "STRING"...: the ONNX spelling of a TensorProto.DataType code.
std::string onnx_type_name(int64_t code);
// "FLOAT" -> 1; 0 for a name ONNX does not define (Cast-1 names its target type).
int64_t onnx_code_from_name(const std::string& name);

}  // namespace fulcrum::ops
