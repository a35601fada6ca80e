// Reference kernels for fulcrum.QConv and fulcrum.QMatMul (ops/quantized_fused.h), written
// as the header states them: the integer product is formed exactly (int8 values held as
// doubles, so every sum is exact), scaled into the real domain with the bias added, then the
// epilogue runs each post-op through its own op's reference kernel on float32 values, and the
// result is quantized (round half to even, saturate) when the output is int8/uint8. NHWC
// tensors are transposed to NCHW around the computation.
#include <cmath>
#include <limits>

#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/layout.h"
#include "backends/reference/tensor_util.h"
#include "core/error.h"
#include "ops/quantized_fused.h"

namespace fulcrum::backends::reference {
namespace {

using tensor_kernels::permute;

const std::vector<int64_t> kNhwcToNchw = {0, 3, 1, 2};
const std::vector<int64_t> kNchwToNhwc = {0, 2, 3, 1};

double lowest(DType t) { return t == DType::kUInt8 ? 0.0 : -128.0; }
double highest(DType t) { return t == DType::kUInt8 ? 255.0 : 127.0; }

// q = saturate(round_half_even(v / scale)) in `dtype`'s range (the default rounding mode
// makes nearbyint round half to even).
double quantize_value(double v, double scale, DType dtype) {
  return std::clamp(std::nearbyint(v / scale), lowest(dtype), highest(dtype));
}

// The quantized values of an activation as float64: an int8/uint8 tensor as it is (its dtype
// must be `dtype`), a float32 one quantized with `scale`.
Result<Tensor> quantized_values(const Tensor& x, const char* name, DType dtype, float scale) {
  Tensor out = Tensor::zeros(DType::kFloat64, x.shape());
  double* dst = out.mutable_data<double>();
  if (x.dtype() == DType::kFloat32) {
    for (int64_t i = 0; i < x.numel(); ++i) dst[i] = quantize_value(x.data<float>()[i], scale, dtype);
  } else if (x.dtype() == dtype && dtype == DType::kInt8) {
    for (int64_t i = 0; i < x.numel(); ++i) dst[i] = x.data<int8_t>()[i];
  } else if (x.dtype() == dtype && dtype == DType::kUInt8) {
    for (int64_t i = 0; i < x.numel(); ++i) dst[i] = x.data<uint8_t>()[i];
  } else {
    return invalid_argument("input {} has dtype {}; expected float32 or {} (the node's quantized dtype)", name,
                            dtype_name(x.dtype()), dtype_name(dtype));
  }
  return out;
}

// The per-channel weight scales, expanded to `channels`.
Result<std::vector<double>> weight_scales(const ops::QuantParams& q, int64_t channels) {
  if (q.w_scales.size() != 1 && static_cast<int64_t>(q.w_scales.size()) != channels)
    return invalid_argument("attribute 'w_scales' has {} values; expected 1 or one per output channel ({})",
                            q.w_scales.size(), channels);
  std::vector<double> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) out[c] = q.w_scales[q.w_scales.size() == 1 ? 0 : c];
  return out;
}

Result<std::vector<double>> bias_values(const KernelContext& ctx, int64_t channels) {
  std::vector<double> out(static_cast<size_t>(channels), 0.0);
  if (!ctx.has_input(2)) return out;
  const Tensor& b = ctx.input(2);
  if (b.dtype() != DType::kFloat32 || b.rank() != 1 || b.dim(0) != channels)
    return invalid_argument("bias must be a 1-D float32 tensor of {} values, got {} {}", channels,
                            dtype_name(b.dtype()), shape_to_string(b.shape()));
  for (int64_t c = 0; c < channels; ++c) out[c] = b.data<float>()[c];
  return out;
}

// real[i] = acc[i] * in_scale * w_scale[c] + bias[c], c = (i / inner) % channels, as float32.
Result<Tensor> to_real(const Tensor& acc, const KernelContext& ctx, const ops::QuantParams& q, int64_t channels,
                       int64_t inner) {
  FULCRUM_ASSIGN_OR_RETURN(std::vector<double> w_scales, weight_scales(q, channels));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<double> bias, bias_values(ctx, channels));
  Tensor out = Tensor::zeros(DType::kFloat32, acc.shape());
  for (int64_t i = 0; i < acc.numel(); ++i) {
    const size_t c = static_cast<size_t>((i / inner) % channels);
    out.mutable_data<float>()[i] =
        static_cast<float>(acc.data<double>()[i] * double(q.in_scale) * w_scales[c] + bias[c]);
  }
  return out;
}

// A binary post-op's operand as float32 NCHW: an int8/uint8 one dequantized with its
// operand scale, and (a QConv's, `nhwc_int8`) transposed from NHWC, the layout of INT8 tensors
// between convolutions; float32 operands are NCHW.
Result<Tensor> real_operand(const Tensor& t, float scale, size_t index, bool nhwc_int8, const Shape& y_nhwc) {
  Tensor real = t;
  const bool transpose = nhwc_int8 && ops::is_8bit(t.dtype()) && t.shape() == y_nhwc;
  if (ops::is_8bit(t.dtype())) {
    if (scale <= 0.f)
      return invalid_argument("post-op operand {} is {} but its operand scale is 0 (a float32 operand)", index,
                              dtype_name(t.dtype()));
    real = Tensor::zeros(DType::kFloat32, t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = t.dtype() == DType::kInt8 ? t.data<int8_t>()[i] : t.data<uint8_t>()[i];
      real.mutable_data<float>()[i] = static_cast<float>(v * scale);
    }
  } else if (t.dtype() != DType::kFloat32) {
    return invalid_argument("post-op operand {} has dtype {}; expected float32, int8 or uint8", index,
                            dtype_name(t.dtype()));
  } else if (scale > 0.f) {
    return invalid_argument("post-op operand {} is float32 but has operand scale {}", index, scale);
  }
  if (transpose) real = permute(real, real.shape(), kNhwcToNchw);
  return real;
}

// Runs the epilogue on `acc` (float32, logical layout), each post-op by its own kernel.
Result<Tensor> run_epilogue(const KernelContext& ctx, const ops::Epilogue& e, const ops::QuantParams& q, Tensor acc,
                            bool nhwc_int8_operands, const Shape& y_nhwc) {
  const ir::Node& node = ctx.node();
  size_t operand = 0;
  for (const ops::PostOp& op : e.post_ops) {
    std::vector<const Tensor*> inputs = {&acc};
    Tensor other;
    if (op.input >= 0) {
      if (!ctx.has_input(static_cast<size_t>(op.input)))
        return invalid_argument("post-op {} reads input {}, which is missing", op.op_type, op.input);
      FULCRUM_ASSIGN_OR_RETURN(other, real_operand(ctx.input(static_cast<size_t>(op.input)), q.operand_scales[operand],
                                                   operand, nhwc_int8_operands, y_nhwc));
      ++operand;
      inputs.push_back(&other);
    }
    FULCRUM_ASSIGN_OR_RETURN(acc, run_stage(node, op.domain, op.op_type, op.opset, op.typed, std::move(inputs)));
  }
  return acc;
}

// The output in y_dtype: float32 as it is, else quantized with y_scale.
Tensor store(const Tensor& y, const ops::QuantParams& q) {
  if (q.out_dtype == DType::kFloat32) return y;
  Tensor out = Tensor::zeros(q.out_dtype, y.shape());
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double v = quantize_value(y.data<float>()[i], q.out_scale, q.out_dtype);
    if (q.out_dtype == DType::kInt8)
      out.mutable_data<int8_t>()[i] = static_cast<int8_t>(v);
    else
      out.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v);
  }
  return out;
}

Result<Tensor> int8_weights(const KernelContext& ctx, int64_t rank) {
  const Tensor& w = ctx.input(1);
  if (w.dtype() != DType::kInt8 || w.rank() != rank)
    return invalid_argument("weights must be a {}-D int8 tensor, got {} {}", rank, dtype_name(w.dtype()),
                            shape_to_string(w.shape()));
  Tensor out = Tensor::zeros(DType::kFloat64, w.shape());
  for (int64_t i = 0; i < w.numel(); ++i) out.mutable_data<double>()[i] = w.data<int8_t>()[i];
  return out;
}

Status qconv(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X", "W"}));
  const auto& a = ctx.attrs<ops::QConvAttrs>();
  const ops::QuantParams& q = a.quant;
  const bool nhwc_in = a.src_layout == ops::Layout::kNhwc, nhwc_out = a.dst_layout == ops::Layout::kNhwc;
  if (ctx.input(0).rank() != 4 && (nhwc_in || nhwc_out))
    return invalid_argument("an NHWC QConv needs a 4-D X, got {}", shape_to_string(ctx.input(0).shape()));
  FULCRUM_ASSIGN_OR_RETURN(Tensor x, quantized_values(ctx.input(0), "X", q.in_dtype, q.in_scale));
  if (nhwc_in) x = permute(x, x.shape(), kNhwcToNchw);
  FULCRUM_ASSIGN_OR_RETURN(Tensor w, int8_weights(ctx, x.rank()));
  FULCRUM_ASSIGN_OR_RETURN(Tensor acc,
                           run_stage(ctx.node(), "", "Conv", 11, std::make_shared<ops::ConvAttrs>(a), {&x, &w}));
  const int64_t channels = acc.dim(1);
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, to_real(acc, ctx, q, channels, acc.numel() / (acc.dim(0) * channels)));
  const Shape y_nhwc = y.rank() == 4 ? Shape{y.dim(0), y.dim(2), y.dim(3), y.dim(1)} : y.shape();
  FULCRUM_ASSIGN_OR_RETURN(y, run_epilogue(ctx, a.epilogue, q, std::move(y), y.rank() == 4, y_nhwc));
  if (nhwc_out) y = permute(y, y.shape(), kNchwToNhwc);
  ctx.set_output(0, store(y, q));
  return Status::ok();
}

Status qmatmul(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"A", "B"}));
  const auto& a = ctx.attrs<ops::QMatMulAttrs>();
  const ops::QuantParams& q = a.quant;
  FULCRUM_ASSIGN_OR_RETURN(Tensor x, quantized_values(ctx.input(0), "A", q.in_dtype, q.in_scale));
  FULCRUM_ASSIGN_OR_RETURN(Tensor w, int8_weights(ctx, 2));
  const int64_t k = w.dim(0), n = w.dim(1);
  if (x.rank() < 1 || x.dim(x.rank() - 1) != k)
    return invalid_argument("A {} does not fit B {}: expected [..., {}]", shape_to_string(x.shape()),
                            shape_to_string(w.shape()), k);
  const int64_t rows = x.numel() / k;
  Shape y_shape(x.shape().begin(), x.shape().end() - 1);
  y_shape.push_back(n);
  Tensor acc = Tensor::zeros(DType::kFloat64, y_shape);
  gemm<double>(false, false, rows, n, k, x.data<double>(), k, w.data<double>(), n, acc.mutable_data<double>(), n);
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, to_real(acc, ctx, q, n, 1));
  FULCRUM_ASSIGN_OR_RETURN(y, run_epilogue(ctx, a.epilogue, q, std::move(y), false, y_shape));
  ctx.set_output(0, store(y, q));
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", QConv, qconv);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", QMatMul, qmatmul);

}  // namespace
}  // namespace fulcrum::backends::reference
