// Reference kernels for activations: Relu and its relatives, Sigmoid/Tanh and friends,
// Shrink, PRelu and Clip.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backends/reference/elementwise_common.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::reference {
namespace {

using ew::load;

// NaN passes through every activation below (comparisons with NaN are false).
Status relu(KernelContext& ctx) {
  return ew::unary_arith(ctx, [](auto v) {
    using C = decltype(v);
    return v < C(0) ? C(0) : v;
  });
}

Status leaky_relu(KernelContext& ctx) {
  const double alpha = ctx.attrs<ops::ActivationAttrs>().alpha;
  return ew::unary_floating(ctx, [alpha](double v) { return v < 0 ? alpha * v : v; });
}

Status elu(KernelContext& ctx) {
  const double alpha = ctx.attrs<ops::ActivationAttrs>().alpha;
  return ew::unary_floating(ctx, [alpha](double v) { return v < 0 ? alpha * (std::exp(v) - 1.0) : v; });
}

Status selu(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::ActivationAttrs>();
  const double alpha = a.alpha;
  const double gamma = a.gamma;
  return ew::unary_floating(ctx, [=](double v) { return v > 0 ? gamma * v : gamma * (alpha * std::exp(v) - alpha); });
}

Status celu(KernelContext& ctx) {
  const double alpha = ctx.attrs<ops::ActivationAttrs>().alpha;
  return ew::unary_floating(
      ctx, [alpha](double v) { return std::max(0.0, v) + std::min(0.0, alpha * (std::exp(v / alpha) - 1.0)); });
}

Status sigmoid(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}

Status hard_sigmoid(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::ActivationAttrs>();
  const double alpha = a.alpha;
  const double beta = a.beta;
  return ew::unary_floating(ctx, [=](double v) { return std::max(0.0, std::min(1.0, alpha * v + beta)); });
}

// HardSwish is x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
Status hard_swish(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return v * std::max(0.0, std::min(1.0, v / 6.0 + 0.5)); });
}

Status tanh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::tanh(v); });
}

// log(1 + e^v), written so e^v cannot overflow for large v.
Status softplus(KernelContext& ctx) {
  return ew::unary_floating(ctx,
                            [](double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); });
}

Status softsign(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return v / (1.0 + std::fabs(v)); });
}

Status thresholded_relu(KernelContext& ctx) {
  const double alpha = ctx.attrs<ops::ActivationAttrs>().alpha;
  return ew::unary_floating(ctx, [alpha](double v) { return v > alpha ? v : 0.0; });
}

// Shrink takes any numeric type; integer results are truncated like numpy's astype.
Status shrink(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::ShrinkAttrs>();
  const double bias = a.bias;
  const double lambd = a.lambd;
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "input"));
  const Tensor& x = ctx.input(0);
  return ew::visit_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* in = x.data<T>();
    T* out = y.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double v = static_cast<double>(in[i]);
      out[i] = ew::convert<T>(v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0));
    }
    return Status::ok();
  });
}

// The slope's shape as broadcast against X. Before opset 7 PyTorch exported per-channel
// slopes as 1-D [C] tensors meant for axis 1, which numpy broadcasting would align with
// the last axis instead.
Shape prelu_slope_shape(const Shape& x, const Shape& slope, int64_t opset) {
  if (opset >= 7 || slope.size() != 1 || x.size() < 2 || slope[0] == 1 || slope[0] != x[1]) return slope;
  Shape s(x.size() - 1, 1);
  s[0] = slope[0];
  return s;
}

Status prelu(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "X"));
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 1, "slope"));
  const Tensor& x = ctx.input(0);
  const Tensor slope = ctx.input(1).reshaped(prelu_slope_shape(x.shape(), ctx.input(1).shape(), ctx.opset()));
  if (x.dtype() != slope.dtype())
    return invalid_argument("inputs X and slope have different dtypes ({} and {})", dtype_name(x.dtype()),
                            dtype_name(slope.dtype()));
  auto shape = ew::broadcast_pair(x.shape(), slope.shape());
  if (!shape.is_ok() || *shape != x.shape())
    return invalid_argument("slope shape {} cannot be broadcast to X's shape {}", shape_to_string(slope.shape()),
                            shape_to_string(x.shape()));
  return ew::visit_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    ew::apply_binary<T, T, T>(x, slope, y, [](T xv, T sv) {
      auto v = load(xv);
      auto s = load(sv);
      using C = decltype(v);
      if constexpr (ew::is_int_v<C>)
        return static_cast<T>(v < 0 ? ew::wrapping_mul(v, s) : v);
      else
        return static_cast<T>(v < 0 ? static_cast<C>(v * s) : v);
    });
    return Status::ok();
  });
}

// Reads Clip's optional scalar bound input i; `present` is false when it is omitted.
template <class T>
Status read_bound(const KernelContext& ctx, size_t i, const char* name, bool& present, ew::compute_t<T>& bound) {
  present = ctx.has_input(i);
  if (!present) return Status::ok();
  const Tensor& b = ctx.input(i);
  if (b.dtype() != ctx.input(0).dtype())
    return invalid_argument("input '{}' has dtype {}, but input has {}", name, dtype_name(b.dtype()),
                            dtype_name(ctx.input(0).dtype()));
  if (b.numel() != 1)
    return invalid_argument("input '{}' must be a scalar, got shape {}", name, shape_to_string(b.shape()));
  bound = load(b.data<T>()[0]);
  return Status::ok();
}

// y = min(max(x, min), max), with bounds from attributes before opset 11 and from optional
// scalar inputs after; an omitted bound does not clip.
Status clip(KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::ClipAttrs>();
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "input"));
  const Tensor& x = ctx.input(0);
  return ew::visit_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ew::compute_t<T>;
    bool has_lo = true;
    bool has_hi = true;
    C lo{};
    C hi{};
    if (attrs.bounds_from_attrs) {
      lo = load(ew::convert<T>(attrs.min));
      hi = load(ew::convert<T>(attrs.max));
    } else {
      FULCRUM_RETURN_IF_ERROR(read_bound<T>(ctx, 1, "min", has_lo, lo));
      FULCRUM_RETURN_IF_ERROR(read_bound<T>(ctx, 2, "max", has_hi, hi));
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* in = x.data<T>();
    T* out = y.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      C v = load(in[i]);
      if (has_lo && v < lo) v = lo;
      if (has_hi && v > hi) v = hi;
      out[i] = static_cast<T>(v);
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Relu, relu);
FULCRUM_REFERENCE_KERNEL(LeakyRelu, leaky_relu);
FULCRUM_REFERENCE_KERNEL(Elu, elu);
FULCRUM_REFERENCE_KERNEL(Selu, selu);
FULCRUM_REFERENCE_KERNEL(Celu, celu);
FULCRUM_REFERENCE_KERNEL(Sigmoid, sigmoid);
FULCRUM_REFERENCE_KERNEL(HardSigmoid, hard_sigmoid);
FULCRUM_REFERENCE_KERNEL(HardSwish, hard_swish);
FULCRUM_REFERENCE_KERNEL(Tanh, tanh_k);
FULCRUM_REFERENCE_KERNEL(Softplus, softplus);
FULCRUM_REFERENCE_KERNEL(Softsign, softsign);
FULCRUM_REFERENCE_KERNEL(ThresholdedRelu, thresholded_relu);
FULCRUM_REFERENCE_KERNEL(Shrink, shrink);
FULCRUM_REFERENCE_KERNEL(PRelu, prelu);
FULCRUM_REFERENCE_KERNEL(Clip, clip);

}  // namespace
}  // namespace fulcrum::backends::reference
