#include "ops/quantized_fused.h"

#include <cmath>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

template <class T>
const T* attr_of(const Attributes& attrs, const char* name) {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : std::get_if<T>(&it->second);
}

template <class T>
Result<T> required(const Attributes& attrs, const char* name, const char* kind) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return invalid_argument("missing attribute '{}'", name);
  const T* v = std::get_if<T>(&it->second);
  if (v == nullptr)
    return invalid_argument("attribute '{}' must be {}, got {}", name, kind, attr_kind_name(it->second));
  return *v;
}

// A dtype attribute, the message naming it.
Result<DType> dtype_attr(const std::string& value, const char* name, bool allow_float) {
  Result<DType> d = parse_quant_dtype(value, allow_float);
  if (!d.is_ok()) return d.status().with_context(fmt::format("attribute '{}'", name));
  return d;
}

bool valid_scale(float s) { return std::isfinite(s) && s > 0.f; }

Status check_scale(const char* name, float s) {
  if (!valid_scale(s)) return invalid_argument("attribute '{}' must be a finite scale > 0, got {}", name, s);
  return Status::ok();
}

size_t binary_post_ops(const Epilogue& e) {
  size_t n = 0;
  for (const PostOp& op : e.post_ops) n += op.input >= 0 ? 1 : 0;
  return n;
}

// The quantization attributes shared by QConv (x_*) and QMatMul (a_*), checked against
// each other and against the epilogue.
Result<QuantParams> parse_quant(const Attributes& attrs, const char* in_scale, const char* in_dtype,
                                const Epilogue& epilogue) {
  QuantParams q;
  FULCRUM_ASSIGN_OR_RETURN(q.in_scale, required<float>(attrs, in_scale, "a float"));
  FULCRUM_RETURN_IF_ERROR(check_scale(in_scale, q.in_scale));
  FULCRUM_ASSIGN_OR_RETURN(std::string in_name, required<std::string>(attrs, in_dtype, "a string"));
  FULCRUM_ASSIGN_OR_RETURN(q.in_dtype, dtype_attr(in_name, in_dtype, false));
  FULCRUM_ASSIGN_OR_RETURN(q.w_scales, required<std::vector<float>>(attrs, kWScales, "a list of floats"));
  if (q.w_scales.empty()) return invalid_argument("attribute '{}' must hold at least one scale", kWScales);
  for (size_t i = 0; i < q.w_scales.size(); ++i)
    if (!valid_scale(q.w_scales[i]))
      return invalid_argument("attribute '{}': scale {} must be finite and > 0, got {}", kWScales, i, q.w_scales[i]);
  if (const auto* y = attr_of<std::string>(attrs, kYDtype)) {
    FULCRUM_ASSIGN_OR_RETURN(q.out_dtype, dtype_attr(*y, kYDtype, true));
  } else if (attrs.count(kYDtype) != 0) {
    return invalid_argument("attribute '{}' must be a string", kYDtype);
  }
  if (q.out_dtype != DType::kFloat32) {
    FULCRUM_ASSIGN_OR_RETURN(q.out_scale, required<float>(attrs, kYScale, "a float"));
    FULCRUM_RETURN_IF_ERROR(check_scale(kYScale, q.out_scale));
  }
  if (attrs.count(kOperandScales) != 0) {
    FULCRUM_ASSIGN_OR_RETURN(q.operand_scales, required<std::vector<float>>(attrs, kOperandScales, "a list of floats"));
  }
  const size_t operands = binary_post_ops(epilogue);
  if (q.operand_scales.empty()) q.operand_scales.assign(operands, 0.f);  // every operand float32
  if (q.operand_scales.size() != operands)
    return invalid_argument("attribute '{}' has {} values but the epilogue has {} binary post-ops", kOperandScales,
                            q.operand_scales.size(), operands);
  for (size_t i = 0; i < operands; ++i)
    if (!std::isfinite(q.operand_scales[i]) || q.operand_scales[i] < 0.f)
      return invalid_argument("attribute '{}': scale {} must be finite and >= 0 (0: a float32 operand), got {}",
                              kOperandScales, i, q.operand_scales[i]);
  return q;
}

Result<std::shared_ptr<const OpAttrs>> parse_qconv(const Attributes& attrs, int64_t) {
  auto out = std::make_shared<QConvAttrs>();
  FULCRUM_RETURN_IF_ERROR(parse_fused_conv_attrs(attrs, *out));
  for (auto [key, layout] : {std::pair{"src_layout", out->src_layout}, std::pair{"dst_layout", out->dst_layout}})
    if (layout != Layout::kNchw && layout != Layout::kNhwc)
      return invalid_argument("attribute '{}' must be \"NCHW\" or \"NHWC\", got \"{}\"", key, layout_name(layout));
  FULCRUM_ASSIGN_OR_RETURN(out->quant, parse_quant(attrs, kXScale, kXDtype, out->epilogue));
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

Result<std::shared_ptr<const OpAttrs>> parse_qmatmul(const Attributes& attrs, int64_t) {
  auto out = std::make_shared<QMatMulAttrs>();
  FULCRUM_ASSIGN_OR_RETURN(out->epilogue, parse_epilogue(attrs));
  FULCRUM_ASSIGN_OR_RETURN(out->quant, parse_quant(attrs, kAScale, kADtype, out->epilogue));
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

const OpRegistrar kQConv({"QConv", kFulcrumDomain, 1, kNoTraits, parse_qconv});
const OpRegistrar kQMatMul({"QMatMul", kFulcrumDomain, 1, kNoTraits, parse_qmatmul});

}  // namespace

const char* quant_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kFloat32: return "float32";
    default: return "undefined";
  }
}

Result<DType> parse_quant_dtype(const std::string& name, bool allow_float) {
  for (DType d : {DType::kInt8, DType::kUInt8, DType::kFloat32})
    if (name == quant_dtype_name(d) && (allow_float || d != DType::kFloat32)) return d;
  return invalid_argument("unknown dtype \"{}\" (expected \"int8\", \"uint8\"{})", name,
                          allow_float ? " or \"float32\"" : "");
}

}  // namespace fulcrum::ops
