#include "ops/quantize.h"

#include <algorithm>

#include "core/error.h"
#include "ops/onnx_types.h"

namespace fulcrum::ops {
namespace {

// The dtypes a quantized output may name (kUndefined for any other ONNX type code).
DType quantized_dtype_from_onnx_code(int64_t code) {
  DType d = dtype_from_onnx_code(code);
  bool quantized = d == DType::kUInt8 || d == DType::kInt8 || d == DType::kUInt16 || d == DType::kInt16;
  return quantized ? d : DType::kUndefined;
}

Result<std::shared_ptr<const OpAttrs>> parse_quantize(const Attributes& attrs, int64_t opset) {
  AttrReader r(attrs);
  auto a = std::make_shared<QuantizeAttrs>();
  a->axis = r.i("axis", 1);
  a->saturate = r.i("saturate", 1) != 0;
  a->block_size = r.i("block_size", 0);
  const int64_t code = r.i("output_dtype", 0);
  if (!r.status().is_ok()) return r.status();
  if (code != 0) {
    a->output_dtype = quantized_dtype_from_onnx_code(code);
    if (a->output_dtype == DType::kUndefined)
      return unimplemented("attribute 'output_dtype' {} is not a supported quantized type (uint8, int8, uint16, int16)",
                           code);
  }
  return std::shared_ptr<const OpAttrs>(std::move(a));
}

Result<AutoPad> parse_auto_pad(const std::string& s) {
  if (s == "NOTSET") return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  return invalid_argument("attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '{}'", s);
}

Result<std::shared_ptr<const OpAttrs>> parse_qlinear_conv(const Attributes& attrs, int64_t) {
  AttrReader r(attrs);
  auto a = std::make_shared<QLinearConvAttrs>();
  const std::string auto_pad = r.s("auto_pad", "NOTSET");
  a->dilations = r.ints("dilations");
  a->group = r.i("group", 1);
  a->kernel_shape = r.ints("kernel_shape");
  a->pads = r.ints("pads");
  a->strides = r.ints("strides");
  auto positive = [](const std::vector<int64_t>& v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  };
  r.check(a->group > 0, "attribute 'group' must be positive");
  r.check(positive(a->dilations), "attribute 'dilations' must be positive");
  r.check(positive(a->strides), "attribute 'strides' must be positive");
  r.check(positive(a->kernel_shape), "attribute 'kernel_shape' must be positive");
  r.check(std::all_of(a->pads.begin(), a->pads.end(), [](int64_t x) { return x >= 0; }),
          "attribute 'pads' must not be negative");
  if (!r.status().is_ok()) return r.status();
  FULCRUM_ASSIGN_OR_RETURN(a->auto_pad, parse_auto_pad(auto_pad));
  return std::shared_ptr<const OpAttrs>(std::move(a));
}

const OpRegistrar kQuantize({"QuantizeLinear", "", 10, kQuantization, parse_quantize});
const OpRegistrar kDequantize({"DequantizeLinear", "", 10, kQuantization, parse_quantize});
const OpRegistrar kDynamicQuantize({"DynamicQuantizeLinear", "", 11, kQuantization, nullptr});
const OpRegistrar kQLinearConv({"QLinearConv", "", 10, kQuantization, parse_qlinear_conv});
const OpRegistrar kQLinearMatMul({"QLinearMatMul", "", 10, kQuantization, nullptr});

}  // namespace
}  // namespace fulcrum::ops
