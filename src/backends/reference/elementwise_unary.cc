// Reference kernels for unary elementwise math: Abs, Neg, Exp, Log, trigonometry, Round,
// Sign, Erf, IsNaN, IsInf, Not.
#include <cmath>
#include <type_traits>

#include "backends/reference/elementwise_common.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::reference {

namespace {

using ew::load;

// Rounds half to even, independent of the thread's floating-point rounding mode.
double round_half_even(double v) {
  double r = std::round(v);  // half away from zero
  if (std::fabs(v - std::trunc(v)) == 0.5) r = 2.0 * std::round(v / 2.0);
  return r;
}

Status exp_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::exp(v); });
}
Status log_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::log(v); });
}
Status sqrt_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::sqrt(v); });
}
Status reciprocal(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return 1.0 / v; });
}
Status floor_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::floor(v); });
}
Status ceil_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::ceil(v); });
}
Status round_k(KernelContext& ctx) { return ew::unary_floating(ctx, round_half_even); }
Status sin_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::sin(v); });
}
Status cos_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::cos(v); });
}
Status tan_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::tan(v); });
}
Status asin_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::asin(v); });
}
Status acos_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::acos(v); });
}
Status atan_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::atan(v); });
}
Status sinh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::sinh(v); });
}
Status cosh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::cosh(v); });
}
Status asinh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::asinh(v); });
}
Status acosh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::acosh(v); });
}
Status atanh_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::atanh(v); });
}
Status erf_k(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return std::erf(v); });
}

// Abs and Neg wrap for the most negative integer (its magnitude does not fit).
Status abs_k(KernelContext& ctx) {
  return ew::unary_arith(ctx, [](auto v) {
    using C = decltype(v);
    if constexpr (std::is_unsigned_v<C>)
      return v;
    else if constexpr (ew::is_int_v<C>)
      return v < 0 ? ew::wrapping_sub(C(0), v) : v;
    else
      return std::fabs(v);
  });
}

Status neg(KernelContext& ctx) {
  return ew::unary_arith(ctx, [](auto v) {
    using C = decltype(v);
    if constexpr (ew::is_int_v<C>)
      return ew::wrapping_sub(C(0), v);
    else
      return -v;
  });
}

// -1, 0 or 1; NaN stays NaN.
Status sign(KernelContext& ctx) {
  return ew::unary_arith(ctx, [](auto v) {
    using C = decltype(v);
    if (v > C(0)) return C(1);
    if (v < C(0)) return static_cast<C>(-1);
    return v;
  });
}

// y = pred(x) as bool for floating x.
template <class Pred>
Status floating_predicate(KernelContext& ctx, Pred pred) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "X"));
  const Tensor& x = ctx.input(0);
  return ew::visit_floating(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, DType::kBool, x.shape());
    const T* in = x.data<T>();
    bool* out = y.mutable_data<bool>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = pred(static_cast<double>(in[i]));
    return Status::ok();
  });
}

Status is_nan(KernelContext& ctx) {
  return floating_predicate(ctx, [](double v) { return std::isnan(v); });
}

Status is_inf(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::IsInfAttrs>();
  return floating_predicate(
      ctx, [&a](double v) { return std::isinf(v) && ((v > 0 && a.detect_positive) || (v < 0 && a.detect_negative)); });
}

Status logical_not(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "X"));
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kBool) return invalid_argument("input X must be bool, got {}", dtype_name(x.dtype()));
  Tensor& y = ctx.allocate_output(0, DType::kBool, x.shape());
  const bool* in = x.data<bool>();
  bool* out = y.mutable_data<bool>();
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = !in[i];
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Abs, abs_k);
FULCRUM_REFERENCE_KERNEL(Neg, neg);
FULCRUM_REFERENCE_KERNEL(Exp, exp_k);
FULCRUM_REFERENCE_KERNEL(Log, log_k);
FULCRUM_REFERENCE_KERNEL(Sqrt, sqrt_k);
FULCRUM_REFERENCE_KERNEL(Reciprocal, reciprocal);
FULCRUM_REFERENCE_KERNEL(Floor, floor_k);
FULCRUM_REFERENCE_KERNEL(Ceil, ceil_k);
FULCRUM_REFERENCE_KERNEL(Round, round_k);
FULCRUM_REFERENCE_KERNEL(Sign, sign);
FULCRUM_REFERENCE_KERNEL(Sin, sin_k);
FULCRUM_REFERENCE_KERNEL(Cos, cos_k);
FULCRUM_REFERENCE_KERNEL(Tan, tan_k);
FULCRUM_REFERENCE_KERNEL(Asin, asin_k);
FULCRUM_REFERENCE_KERNEL(Acos, acos_k);
FULCRUM_REFERENCE_KERNEL(Atan, atan_k);
FULCRUM_REFERENCE_KERNEL(Sinh, sinh_k);
FULCRUM_REFERENCE_KERNEL(Cosh, cosh_k);
FULCRUM_REFERENCE_KERNEL(Asinh, asinh_k);
FULCRUM_REFERENCE_KERNEL(Acosh, acosh_k);
FULCRUM_REFERENCE_KERNEL(Atanh, atanh_k);
FULCRUM_REFERENCE_KERNEL(Erf, erf_k);
FULCRUM_REFERENCE_KERNEL(IsNaN, is_nan);
FULCRUM_REFERENCE_KERNEL(IsInf, is_inf);
FULCRUM_REFERENCE_KERNEL(Not, logical_not);

}  // namespace
}  // namespace fulcrum::backends::reference
