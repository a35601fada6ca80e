// Reference kernels for binary elementwise ops: arithmetic, Pow, Mod, BitShift,
// comparisons and logic, all with numpy broadcasting (legacy rules before opset 7).
#include <cmath>
#include <type_traits>

#include "backends/reference/elementwise_common.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::reference {
namespace {

using ew::apply_binary;
using ew::BinaryOperands;
using ew::load;

Status require_same_dtype(const BinaryOperands& o) {
  if (o.a.dtype() != o.b.dtype())
    return invalid_argument("inputs A and B have different dtypes ({} and {})", dtype_name(o.a.dtype()),
                            dtype_name(o.b.dtype()));
  return Status::ok();
}

// y = fn(a, b) on compute_t values, for operands of one numeric dtype; y has that dtype.
template <class Fn>
Status arith_binary(KernelContext& ctx, Fn fn) {
  FULCRUM_ASSIGN_OR_RETURN(BinaryOperands o, ew::binary_operands(ctx));
  FULCRUM_RETURN_IF_ERROR(require_same_dtype(o));
  return ew::visit_arith(o.a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, o.a.dtype(), o.out);
    apply_binary<T, T, T>(o.a, o.b, y, [&](T x, T z) { return static_cast<T>(fn(load(x), load(z))); });
    return Status::ok();
  });
}

Status add(KernelContext& ctx) { return arith_binary(ctx, ew::AddOp{}); }

Status sub(KernelContext& ctx) {
  return arith_binary(ctx, [](auto x, auto y) {
    if constexpr (ew::is_int_v<decltype(x)>)
      return ew::wrapping_sub(x, y);
    else
      return x - y;
  });
}

Status mul(KernelContext& ctx) {
  return arith_binary(ctx, [](auto x, auto y) {
    if constexpr (ew::is_int_v<decltype(x)>)
      return ew::wrapping_mul(x, y);
    else
      return x * y;
  });
}

// Integer division truncates toward zero, like C (the ONNX tests' numpy results are
// truncated back to the integer type). Division by zero, undefined in ONNX, gives 0 as in
// numpy rather than trapping; INT_MIN / -1 wraps.
Status div(KernelContext& ctx) {
  return arith_binary(ctx, [](auto x, auto y) {
    using C = decltype(x);
    if constexpr (ew::is_int_v<C>) {
      if (y == 0) return C(0);
      if constexpr (std::is_signed_v<C>)
        if (y == C(-1)) return ew::wrapping_sub(C(0), x);
      return static_cast<C>(x / y);
    } else {
      return x / y;
    }
  });
}

// Integer remainder: fmod=1 takes the dividend's sign (C %), fmod=0 the divisor's
// (Python %). A zero divisor gives 0 (numpy's result) instead of trapping.
template <class C>
C int_mod(C x, C y, bool fmod) {
  if (y == 0) return C(0);
  if constexpr (std::is_signed_v<C>) {
    if (y == C(-1)) return C(0);  // also avoids INT_MIN % -1, which traps
    C r = static_cast<C>(x % y);
    if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<C>(r + y);
    return r;
  } else {
    return static_cast<C>(x % y);
  }
}

Status mod(KernelContext& ctx) {
  const bool fmod = ctx.attrs<ops::ModAttrs>().fmod;
  const DType dtype = ctx.has_input(0) ? ctx.input(0).dtype() : DType::kUndefined;
  const bool floating =
      dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kFloat16 || dtype == DType::kBFloat16;
  if (floating && !fmod)
    return invalid_argument("attribute 'fmod' must be 1 for floating-point inputs ({})", dtype_name(dtype));
  return arith_binary(ctx, [fmod](auto x, auto y) {
    using C = decltype(x);
    if constexpr (ew::is_int_v<C>)
      return int_mod(x, y, fmod);
    else
      return static_cast<C>(std::fmod(x, y));
  });
}

// Exact integer power by squaring (wrapping on overflow). A negative exponent truncates
// 1 / x^-e toward zero, as C's cast of pow() would.
template <class A, class B>
A int_power(A x, B e) {
  if constexpr (std::is_signed_v<B>) {
    if (e < 0) {
      if (x == 1) return A(1);
      if constexpr (std::is_signed_v<A>)
        if (x == A(-1)) return (e % 2 == 0) ? A(1) : A(-1);
      return A(0);
    }
  }
  auto n = static_cast<std::make_unsigned_t<B>>(e);
  A result = 1;
  A base = x;
  while (n > 0) {
    if (n & 1) result = ew::wrapping_mul(result, base);
    base = ew::wrapping_mul(base, base);
    n >>= 1;
  }
  return result;
}

// Pow's base and exponent may have different dtypes (opset 12+); the result has the base's.
template <class A, class B>
A power(A x, B e) {
  if constexpr (ew::is_int_v<A> && ew::is_int_v<B>) {
    return int_power(x, e);
  } else if constexpr (ew::is_int_v<A>) {
    return ew::saturate_cast<A>(std::pow(static_cast<double>(x), static_cast<double>(e)));
  } else {
    return static_cast<A>(std::pow(static_cast<double>(x), static_cast<double>(e)));
  }
}

Status pow(KernelContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(BinaryOperands o, ew::binary_operands(ctx));
  return ew::visit_arith(o.a.dtype(), [&](auto base_tag) {
    using A = typename decltype(base_tag)::type;
    return ew::visit_arith(o.b.dtype(), [&](auto exp_tag) {
      using B = typename decltype(exp_tag)::type;
      Tensor& y = ctx.allocate_output(0, o.a.dtype(), o.out);
      apply_binary<A, A, B>(o.a, o.b, y, [](A x, B e) { return power(x, e); });
      return Status::ok();
    });
  });
}

Status bit_shift(KernelContext& ctx) {
  const bool left = ctx.attrs<ops::BitShiftAttrs>().left;
  FULCRUM_ASSIGN_OR_RETURN(BinaryOperands o, ew::binary_operands(ctx));
  FULCRUM_RETURN_IF_ERROR(require_same_dtype(o));
  return visit_int(o.a.dtype(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_signed_v<T>) {
      return invalid_argument("BitShift takes unsigned integers, got {}", dtype_name(o.a.dtype()));
    } else {
      Tensor& y = ctx.allocate_output(0, o.a.dtype(), o.out);
      // Shifting by the bit width or more is undefined in C++; every bit is shifted out.
      apply_binary<T, T, T>(o.a, o.b, y, [left](T x, T s) {
        if (s >= sizeof(T) * 8) return T(0);
        return static_cast<T>(left ? x << s : x >> s);
      });
      return Status::ok();
    }
  });
}

// y = fn(a, b) as bool, for operands of one dtype (bool included).
template <class Fn>
Status compare(KernelContext& ctx, Fn fn) {
  FULCRUM_ASSIGN_OR_RETURN(BinaryOperands o, ew::binary_operands(ctx));
  FULCRUM_RETURN_IF_ERROR(require_same_dtype(o));
  return ew::visit_any(o.a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, DType::kBool, o.out);
    apply_binary<bool, T, T>(o.a, o.b, y, [&](T x, T z) -> bool { return fn(load(x), load(z)); });
    return Status::ok();
  });
}

Status equal(KernelContext& ctx) {
  return compare(ctx, [](auto x, auto y) { return x == y; });
}
Status greater(KernelContext& ctx) {
  return compare(ctx, [](auto x, auto y) { return x > y; });
}
Status less(KernelContext& ctx) {
  return compare(ctx, [](auto x, auto y) { return x < y; });
}
Status greater_or_equal(KernelContext& ctx) {
  return compare(ctx, [](auto x, auto y) { return x >= y; });
}
Status less_or_equal(KernelContext& ctx) {
  return compare(ctx, [](auto x, auto y) { return x <= y; });
}

template <class Fn>
Status logical(KernelContext& ctx, Fn fn) {
  FULCRUM_ASSIGN_OR_RETURN(BinaryOperands o, ew::binary_operands(ctx));
  if (o.a.dtype() != DType::kBool || o.b.dtype() != DType::kBool)
    return invalid_argument("inputs must be bool, got {} and {}", dtype_name(o.a.dtype()), dtype_name(o.b.dtype()));
  Tensor& y = ctx.allocate_output(0, DType::kBool, o.out);
  apply_binary<bool, bool, bool>(o.a, o.b, y, fn);
  return Status::ok();
}

Status logical_and(KernelContext& ctx) {
  return logical(ctx, [](bool x, bool y) { return x && y; });
}
Status logical_or(KernelContext& ctx) {
  return logical(ctx, [](bool x, bool y) { return x || y; });
}
Status logical_xor(KernelContext& ctx) {
  return logical(ctx, [](bool x, bool y) { return x != y; });
}

FULCRUM_REFERENCE_KERNEL(Add, add);
FULCRUM_REFERENCE_KERNEL(Sub, sub);
FULCRUM_REFERENCE_KERNEL(Mul, mul);
FULCRUM_REFERENCE_KERNEL(Div, div);
FULCRUM_REFERENCE_KERNEL(Mod, mod);
FULCRUM_REFERENCE_KERNEL(Pow, pow);
FULCRUM_REFERENCE_KERNEL(BitShift, bit_shift);
FULCRUM_REFERENCE_KERNEL(Equal, equal);
FULCRUM_REFERENCE_KERNEL(Greater, greater);
FULCRUM_REFERENCE_KERNEL(Less, less);
FULCRUM_REFERENCE_KERNEL(GreaterOrEqual, greater_or_equal);
FULCRUM_REFERENCE_KERNEL(LessOrEqual, less_or_equal);
FULCRUM_REFERENCE_KERNEL(And, logical_and);
FULCRUM_REFERENCE_KERNEL(Or, logical_or);
FULCRUM_REFERENCE_KERNEL(Xor, logical_xor);

}  // namespace
}  // namespace fulcrum::backends::reference
