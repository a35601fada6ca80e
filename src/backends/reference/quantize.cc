// Reference kernels for QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear.
//   quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)
//   dequantize: x = (q - zero_point) * scale
// Scale and zero point are per tensor, or (opset 13+) per slice along `axis`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/quantize.h"

namespace fulcrum::backends::reference {
namespace {

double round_half_to_even(double v) {
  if (std::fabs(v - std::trunc(v)) == 0.5) return 2.0 * std::round(v / 2.0);
  return std::round(v);
}

// Rounds, then clamps into Q's range (NaN becomes 0).
template <class Q>
Q saturate(double v) {
  if (std::isnan(v)) return Q(0);
  v = std::clamp(round_half_to_even(v), static_cast<double>(std::numeric_limits<Q>::min()),
                 static_cast<double>(std::numeric_limits<Q>::max()));
  return static_cast<Q>(v);
}

bool is_quantized_dtype(DType d) {
  return d == DType::kUInt8 || d == DType::kInt8 || d == DType::kUInt16 || d == DType::kInt16;
}

// Scale and zero point, one pair per tensor or per index along an axis: element i of x
// uses pair (i / inner) % scale.size().
struct QuantParams {
  std::vector<double> scale;
  std::vector<int64_t> zero_point;
  int64_t inner = 1;
  size_t index(int64_t i) const { return static_cast<size_t>((i / inner) % static_cast<int64_t>(scale.size())); }
};

Result<QuantParams> quant_params(const KernelContext& ctx, const Tensor& x, const char* scale_name,
                                 const char* zp_name) {
  const Tensor& scale = ctx.input(1);
  if (scale.rank() > 1 || scale.numel() < 1)
    return invalid_argument("input '{}' must be a scalar or 1-D, got shape {}", scale_name,
                            shape_to_string(scale.shape()));
  QuantParams p;
  if (scale.numel() > 1) {
    const int64_t axis_attr = ctx.attrs<ops::QuantizeAttrs>().axis;
    if (ctx.opset() < 13) return invalid_argument("input '{}' must be a scalar before opset 13", scale_name);
    auto axis = ops::normalize_axis(axis_attr, x.rank());
    if (!axis.is_ok())
      return invalid_argument("attribute 'axis' {} is out of range for input of rank {}", axis_attr, x.rank());
    if (x.dim(*axis) != scale.numel())
      return invalid_argument("input '{}' has {} elements, expected {} (dimension {} of the input)", scale_name,
                              scale.numel(), x.dim(*axis), *axis);
    for (int64_t d = *axis + 1; d < x.rank(); ++d) p.inner *= x.dim(d);
  }
  if (scale.dtype() != DType::kFloat32 && scale.dtype() != DType::kFloat64)
    return unimplemented("input '{}' of dtype {} is not supported (float32, float64)", scale_name,
                         dtype_name(scale.dtype()));
  for (int64_t i = 0; i < scale.numel(); ++i) p.scale.push_back(read_as_double(scale, i));
  p.zero_point.assign(p.scale.size(), 0);
  if (ctx.has_input(2)) {
    const Tensor& zp = ctx.input(2);
    if (zp.numel() != scale.numel())
      return invalid_argument("input '{}' has shape {}, but '{}' has shape {}", zp_name, shape_to_string(zp.shape()),
                              scale_name, shape_to_string(scale.shape()));
    for (int64_t i = 0; i < zp.numel(); ++i) p.zero_point[static_cast<size_t>(i)] = read_as_int64(zp, i);
  }
  return p;
}

Result<DType> quantized_output_dtype(const KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::QuantizeAttrs>();
  DType out = a.output_dtype == DType::kUndefined ? DType::kUInt8 : a.output_dtype;
  if (ctx.has_input(2)) {
    const DType zp = ctx.input(2).dtype();
    if (a.output_dtype != DType::kUndefined && a.output_dtype != zp)
      return invalid_argument("attribute 'output_dtype' ({}) differs from input 'y_zero_point' ({})",
                              dtype_name(a.output_dtype), dtype_name(zp));
    out = zp;
  }
  if (!is_quantized_dtype(out))
    return unimplemented("quantizing to {} is not supported (uint8, int8, uint16, int16)", dtype_name(out));
  return out;
}

template <class Q>
Status quantize_to(KernelContext& ctx, const QuantParams& p, DType out_dtype) {
  const Tensor& x = ctx.input(0);
  Q* y = ctx.allocate_output(0, out_dtype, x.shape()).template mutable_data<Q>();
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // x / scale in x's own float precision, as the ONNX reference and ONNX Runtime compute it,
    // so ties round the same way; integer inputs divide in double.
    using Div = std::conditional_t<std::is_floating_point_v<T>, T, double>;
    const T* in = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const size_t k = p.index(i);
      const Div q = static_cast<Div>(in[i]) / static_cast<Div>(p.scale[k]);
      y[i] = saturate<Q>(round_half_to_even(static_cast<double>(q)) + static_cast<double>(p.zero_point[k]));
    }
    return Status::ok();
  });
}

Status quantize_linear(KernelContext& ctx) {
  if (ctx.attrs<ops::QuantizeAttrs>().block_size != 0)
    return unimplemented("blocked quantization (block_size) is not supported");
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32 && x.dtype() != DType::kFloat64 && x.dtype() != DType::kInt32)
    return unimplemented("input 'x' of dtype {} is not supported (float32, float64, int32)", dtype_name(x.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(DType out_dtype, quantized_output_dtype(ctx));
  FULCRUM_ASSIGN_OR_RETURN(QuantParams p, quant_params(ctx, x, "y_scale", "y_zero_point"));
  switch (out_dtype) {
    case DType::kUInt8: return quantize_to<uint8_t>(ctx, p, out_dtype);
    case DType::kInt8: return quantize_to<int8_t>(ctx, p, out_dtype);
    case DType::kUInt16: return quantize_to<uint16_t>(ctx, p, out_dtype);
    default: return quantize_to<int16_t>(ctx, p, out_dtype);
  }
}

Status dequantize_linear(KernelContext& ctx) {
  if (ctx.attrs<ops::QuantizeAttrs>().block_size != 0)
    return unimplemented("blocked quantization (block_size) is not supported");
  const Tensor& x = ctx.input(0);
  if (!is_quantized_dtype(x.dtype()) && x.dtype() != DType::kInt32)
    return unimplemented("input 'x' of dtype {} is not supported (uint8, int8, uint16, int16, int32)",
                         dtype_name(x.dtype()));
  if (ctx.has_input(2) && ctx.input(2).dtype() != x.dtype())
    return invalid_argument("input 'x_zero_point' has dtype {}, expected x's dtype {}",
                            dtype_name(ctx.input(2).dtype()), dtype_name(x.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(QuantParams p, quant_params(ctx, x, "x_scale", "x_zero_point"));
  const DType out_dtype = ctx.input(1).dtype();
  return visit_float(out_dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = ctx.allocate_output(0, out_dtype, x.shape()).template mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const size_t k = p.index(i);
      y[i] = static_cast<T>(static_cast<double>(read_as_int64(x, i) - p.zero_point[k]) * p.scale[k]);
    }
    return Status::ok();
  });
}

// DynamicQuantizeLinear: uint8 with scale and zero point chosen so [min(x, 0), max(x, 0)]
// spans [0, 255]. Computed in float32, step by step as the ONNX spec's formula.
Status dynamic_quantize_linear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32)
    return unimplemented("input 'x' of dtype {} is not supported (float32)", dtype_name(x.dtype()));
  const float* in = x.data<float>();
  float max = 0.0f, min = 0.0f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    max = std::max(max, in[i]);
    min = std::min(min, in[i]);
  }
  // All zeros: any scale works; 1 (as ONNX Runtime) avoids dividing by zero.
  const float scale = (max == min ? 1.0f : max - min) / 255.0f;
  const float zero_point = static_cast<float>(round_half_to_even(std::clamp(0.0f - min / scale, 0.0f, 255.0f)));
  uint8_t* y = ctx.allocate_output(0, DType::kUInt8, x.shape()).mutable_data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) y[i] = saturate<uint8_t>(round_half_to_even(in[i] / scale) + zero_point);
  ctx.allocate_output(1, DType::kFloat32, {}).mutable_data<float>()[0] = scale;
  ctx.allocate_output(2, DType::kUInt8, {}).mutable_data<uint8_t>()[0] = static_cast<uint8_t>(zero_point);
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(QuantizeLinear, quantize_linear);
FULCRUM_REFERENCE_KERNEL(DequantizeLinear, dequantize_linear);
FULCRUM_REFERENCE_KERNEL(DynamicQuantizeLinear, dynamic_quantize_linear);

}  // namespace
}  // namespace fulcrum::backends::reference
