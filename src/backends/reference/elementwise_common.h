// Helpers shared by the elementwise reference kernels: float16/bfloat16 element types,
// dtype dispatch that includes them, explicit value conversions, and a broadcast loop that
// walks contiguous runs (so equal shapes, scalars and bias-like operands cost one tight
// loop per run instead of an index update per element).
//
// The dtype dispatch, conversions and the broadcast plan are general; they belong in
// util.h once other families need float16 (noted in the elementwise report).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "core/float16.h"

namespace fulcrum::backends::reference::ew {

// Rounds a double to float with round-to-odd: a later float -> half/bfloat16 rounding to
// nearest even then equals a direct correctly-rounded double -> half conversion (float
// keeps more than two extra bits of either format), avoiding double-rounding errors.
inline float to_float_round_odd(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(v) || std::isinf(v) || static_cast<double>(f) == v) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(v)) f = std::nextafter(f, 0.0f);  // truncate toward zero
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= 1;  // inexact: make the last bit sticky
  std::memcpy(&f, &bits, 4);
  return f;
}

// IEEE binary16. Conversions are explicit so arithmetic never happens in half precision
// by accident: kernels compute in compute_t<Half> (float) and round once when storing.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  explicit Half(double v) : bits(float_to_half(to_float_round_odd(v))) {}
  explicit operator float() const { return half_to_float(bits); }
  explicit operator double() const { return half_to_float(bits); }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(double v) : bits(float_to_bfloat16(to_float_round_odd(v))) {}
  explicit operator float() const { return bfloat16_to_float(bits); }
  explicit operator double() const { return bfloat16_to_float(bits); }
};
static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);

template <class T>
constexpr bool is_half_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
template <class T>
constexpr bool is_floating_v = std::is_floating_point_v<T> || is_half_v<T>;
template <class T>
constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The type arithmetic on T happens in: float for the 16-bit floats, T otherwise.
template <class T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

template <class T>
compute_t<T> load(T v) {
  return static_cast<compute_t<T>>(v);
}

// Float -> integer conversion is undefined in C++ outside the target's range; ONNX leaves
// it unspecified. The reference truncates toward zero, clamps to the range and maps NaN to 0.
template <class T>
T saturate_cast(double v) {
  if (std::isnan(v)) return T(0);
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

// Converts any element value to element type To, following Cast's rules: floating values
// round to nearest even, floating -> integer truncates (saturate_cast), integer -> integer
// wraps, anything -> bool is "!= 0".
template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(static_cast<float>(v));  // exact
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (is_half_v<To>) {
    return To(static_cast<double>(v));
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return saturate_cast<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);
  }
}

// Integer arithmetic that wraps instead of overflowing (signed overflow is undefined, and
// small unsigned types promote to int). Wider unsigned is used for types below int.
template <class T>
using wrap_t = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <class T>
T wrapping_add(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) + static_cast<wrap_t<T>>(b));
}
template <class T>
T wrapping_sub(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) - static_cast<wrap_t<T>>(b));
}
template <class T>
T wrapping_mul(T a, T b) {
  return static_cast<T>(static_cast<wrap_t<T>>(a) * static_cast<wrap_t<T>>(b));
}

// Arithmetic shared by the binary and the variadic kernels, on compute_t values.
struct AddOp {
  template <class C>
  C operator()(C x, C y) const {
    if constexpr (is_int_v<C>)
      return wrapping_add(x, y);
    else
      return static_cast<C>(x + y);
  }
};

// Max and Min propagate NaN, as numpy's maximum/minimum do.
struct MaxOp {
  template <class C>
  C operator()(C x, C y) const {
    if constexpr (std::is_floating_point_v<C>)
      if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<C>::quiet_NaN();
    return x < y ? y : x;
  }
};

struct MinOp {
  template <class C>
  C operator()(C x, C y) const {
    if constexpr (std::is_floating_point_v<C>)
      if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<C>::quiet_NaN();
    return y < x ? y : x;
  }
};

// --- dtype dispatch ------------------------------------------------------------------------

// float32, float64, float16, bfloat16.
template <class F>
Status visit_floating(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat16: return f(TypeTag<Half>{});
    case DType::kBFloat16: return f(TypeTag<BFloat16>{});
    default: return visit_float(dtype, f);
  }
}

// Every numeric type, 16-bit floats included.
template <class F>
Status visit_arith(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat16: return f(TypeTag<Half>{});
    case DType::kBFloat16: return f(TypeTag<BFloat16>{});
    default: return visit_numeric(dtype, f);
  }
}

// Every type Fulcrum holds.
template <class F>
Status visit_any(DType dtype, F&& f) {
  if (dtype == DType::kBool) return f(TypeTag<bool>{});
  return visit_arith(dtype, f);
}

// --- broadcasting --------------------------------------------------------------------------

// A broadcast of N inputs to an output shape, reduced to as few dimensions as possible:
// adjacent dimensions merge when every input walks them contiguously (or not at all).
// dims[0] is the innermost (a run); strides[k][d] is input k's stride on dims[d].
struct BroadcastPlan {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;
};

BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<Shape>& ins);

// Calls run(out_offset, in_offsets, in_strides, count) for every innermost run: output
// elements [out_offset, out_offset + count) read input k at in_offsets[k] + j * in_strides[k].
template <class Fn>
void for_each_run(const Shape& out, const std::vector<Shape>& ins, Fn&& run) {
  if (shape_numel(out) == 0) return;
  const BroadcastPlan plan = make_broadcast_plan(out, ins);
  const size_t n = ins.size();
  const size_t rank = plan.dims.size();
  std::vector<int64_t> inner(n), offsets(n, 0), index(rank, 0);
  for (size_t k = 0; k < n; ++k) inner[k] = plan.strides[k][0];
  const int64_t count = plan.dims[0];
  for (int64_t out_offset = 0;; out_offset += count) {
    run(out_offset, offsets.data(), inner.data(), count);
    size_t d = 1;
    for (; d < rank; ++d) {  // odometer over the outer dimensions
      for (size_t k = 0; k < n; ++k) offsets[k] += plan.strides[k][d];
      if (++index[d] < plan.dims[d]) break;
      for (size_t k = 0; k < n; ++k) offsets[k] -= plan.strides[k][d] * plan.dims[d];
      index[d] = 0;
    }
    if (d == rank) return;
  }
}

// out[i] = fn(a[.], b[.]) with a and b broadcast to out's shape. R, A, B: element types.
template <class R, class A, class B, class Fn>
void apply_binary(const Tensor& a, const Tensor& b, Tensor& out, Fn&& fn) {
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  R* po = out.mutable_data<R>();
  for_each_run(out.shape(), {a.shape(), b.shape()}, [&](int64_t o, const int64_t* off, const int64_t* st, int64_t n) {
    const A* x = pa + off[0];
    const B* y = pb + off[1];
    R* z = po + o;
    // The common cases get loops the compiler can vectorise.
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t j = 0; j < n; ++j) z[j] = fn(x[j], y[j]);
    } else if (st[0] == 1 && st[1] == 0) {
      const B yv = *y;
      for (int64_t j = 0; j < n; ++j) z[j] = fn(x[j], yv);
    } else if (st[0] == 0 && st[1] == 1) {
      const A xv = *x;
      for (int64_t j = 0; j < n; ++j) z[j] = fn(xv, y[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) z[j] = fn(x[j * st[0]], y[j * st[1]]);
    }
  });
}

// Output shape of numpy-broadcasting a and b; errors name both shapes.
Result<Shape> broadcast_pair(const Shape& a, const Shape& b);

// The two operands of a binary op, with opset < 7 'broadcast'/'axis' rules applied: b is
// reshaped so that numpy broadcasting gives the legacy result, and out is a's shape.
struct BinaryOperands {
  Tensor a;
  Tensor b;
  Shape out;
};
Result<BinaryOperands> binary_operands(const KernelContext& ctx);

// Checks that input `i` is present; errors name the input.
Status require_input(const KernelContext& ctx, size_t i, const char* name);

// y[i] = fn(double(x[i])) for floating x (16-bit floats included), rounded once to x's
// dtype; y has x's shape. Computing in double keeps float32 results correctly rounded.
template <class Fn>
Status unary_floating(KernelContext& ctx, Fn fn) {
  FULCRUM_RETURN_IF_ERROR(require_input(ctx, 0, "X"));
  const Tensor& x = ctx.input(0);
  return visit_floating(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* in = x.data<T>();
    T* out = y.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = static_cast<T>(fn(static_cast<double>(in[i])));
    return Status::ok();
  });
}

// y[i] = fn(x[i]) on compute_t<T> values for any numeric x; y has x's dtype and shape.
template <class Fn>
Status unary_arith(KernelContext& ctx, Fn fn) {
  FULCRUM_RETURN_IF_ERROR(require_input(ctx, 0, "X"));
  const Tensor& x = ctx.input(0);
  return visit_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* in = x.data<T>();
    T* out = y.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = static_cast<T>(fn(load(in[i])));
    return Status::ok();
  });
}

}  // namespace fulcrum::backends::reference::ew
