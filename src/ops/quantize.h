// Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the
// quantized compute ops QLinearConv and QLinearMatMul.
#pragma once

#include <string>
#include <vector>

#include "fulcrum/tensor.h"
#include "ops/registry.h"

namespace fulcrum::ops {

// QuantizeLinear / DequantizeLinear.
struct QuantizeAttrs : OpAttrs {
  int64_t axis = 1;        // per-axis quantization (opset 13+); ignored for a scalar scale
  bool saturate = true;    // only matters for float8 outputs, which are unsupported
  int64_t block_size = 0;  // opset 21 blocked quantization; unsupported when nonzero
  // QuantizeLinear opset 21: the output dtype when there is no zero point (kUndefined:
  // uint8, or the zero point's dtype).
  DType output_dtype = DType::kUndefined;
};

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// QLinearConv: the Conv attributes. Empty vectors mean "the default for the input's rank"
// (kernel_shape: taken from the weights).
struct QLinearConvAttrs : OpAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> dilations;
  int64_t group = 1;
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> pads;  // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  std::vector<int64_t> strides;
};

}  // namespace fulcrum::ops
