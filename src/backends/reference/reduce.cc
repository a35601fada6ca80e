// Reference kernels for the Reduce* family. Float inputs accumulate in double; integer
// inputs in 64-bit integers (wrapping like the narrow type would).
//
// The input walk is linear: adjacent axes that are all kept or all reduced are merged into
// runs, so LayerNorm's ReduceMean over the last axis of [1, 128, 768] is 128 rows of 768
// contiguous elements, each summed into one accumulator.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <initializer_list>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/reduce.h"

namespace fulcrum::backends::reference {
namespace {

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// The input shape as runs of kept or reduced axes, and where each run moves the output.
struct ReducePlan {
  Shape out_shape;                   // keepdims applied
  std::vector<int64_t> dims;         // run extents (never empty)
  std::vector<int64_t> out_strides;  // per run: 0 for a reduced run
  int64_t count = 1;                 // input elements per output element
};

// The normalized, deduplicated axes to reduce; empty means none.
Result<std::vector<bool>> reduced_axes(const KernelContext& ctx, const ops::ReduceAttrs& attrs, int64_t rank) {
  std::vector<int64_t> axes = attrs.axes;
  if (attrs.axes.empty() && attrs.axes_from_input && ctx.has_input(1)) {
    const Tensor& t = ctx.input(1);
    if (t.dtype() != DType::kInt64)
      return invalid_argument("input 'axes' must be int64, got {}", dtype_name(t.dtype()));
    if (t.rank() > 1) return invalid_argument("input 'axes' must be 1-D, got shape {}", shape_to_string(t.shape()));
    axes = to_int64_vector(t);
  }
  const bool all = axes.empty() && !attrs.noop_with_empty_axes;
  std::vector<bool> reduced(static_cast<size_t>(rank), all);
  for (int64_t axis : axes) {
    auto a = ops::normalize_axis(axis, rank);
    if (!a.is_ok() || rank == 0) return invalid_argument("axes: axis {} is out of range for rank {}", axis, rank);
    if (reduced[static_cast<size_t>(*a)]) return invalid_argument("axes: axis {} appears more than once", axis);
    reduced[static_cast<size_t>(*a)] = true;
  }
  return reduced;
}

ReducePlan make_plan(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  ReducePlan p;
  std::vector<bool> run_reduced;
  for (size_t d = 0; d < in.size(); ++d) {
    if (reduced[d]) p.count *= in[d];
    if (!reduced[d])
      p.out_shape.push_back(in[d]);
    else if (keepdims)
      p.out_shape.push_back(1);
    if (in[d] == 1) continue;  // joins either kind of run
    if (!p.dims.empty() && run_reduced.back() == reduced[d]) {
      p.dims.back() *= in[d];
    } else {
      p.dims.push_back(in[d]);
      run_reduced.push_back(reduced[d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    run_reduced.push_back(false);
  }
  p.out_strides.assign(p.dims.size(), 0);
  int64_t stride = 1;
  for (size_t r = p.dims.size(); r-- > 0;) {
    if (run_reduced[r]) continue;
    p.out_strides[r] = stride;
    stride *= p.dims[r];
  }
  return p;
}

// Calls fn(o, x) for every input element x, where o is the flat index of its output element.
template <class T, class Fn>
void accumulate(const T* in, const ReducePlan& p, Fn fn) {
  const size_t n = p.dims.size();
  const int64_t inner = p.dims[n - 1];
  const int64_t inner_step = p.out_strides[n - 1];
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < n; ++d) rows *= p.dims[d];
  if (inner == 0) return;
  std::vector<int64_t> index(n, 0);
  int64_t out_base = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const T* x = in + row * inner;
    for (int64_t i = 0; i < inner; ++i) fn(out_base + i * inner_step, x[i]);
    for (size_t d = n - 1; d-- > 0;) {  // advance the row odometer, last run fastest
      out_base += p.out_strides[d];
      if (++index[d] < p.dims[d]) break;
      out_base -= p.out_strides[d] * index[d];
      index[d] = 0;
    }
  }
}

// Accumulator type: double for floats; 64-bit integers of the input's signedness otherwise.
template <class T>
using AccOf =
    std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

// Integer sums and products wrap instead of overflowing (which would be undefined).
template <class A>
A wrap_add(A a, A b) {
  if constexpr (std::is_integral_v<A>)
    return static_cast<A>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else
    return a + b;
}
template <class A>
A wrap_mul(A a, A b) {
  if constexpr (std::is_integral_v<A>)
    return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else
    return a * b;
}

template <class A>
bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>)
    return std::isnan(v);
  else
    return false;
}

template <class A>
A initial_value(ReduceKind kind) {
  if (kind == ReduceKind::kProd) return A(1);
  if (kind == ReduceKind::kMax) {
    return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::lowest();
  }
  if (kind == ReduceKind::kMin) {
    return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity() : std::numeric_limits<A>::max();
  }
  return A(0);
}

// Fills acc with the raw accumulation (before the final sqrt, log or division).
template <class T, class A>
void accumulate_kind(ReduceKind kind, const T* in, const ReducePlan& p, A* acc) {
  auto add = [acc](int64_t o, A v) { acc[o] = wrap_add(acc[o], v); };
  switch (kind) {
    case ReduceKind::kSum:
    case ReduceKind::kMean:
    case ReduceKind::kLogSum: accumulate(in, p, [&](int64_t o, T x) { add(o, static_cast<A>(x)); }); break;
    case ReduceKind::kProd:
      accumulate(in, p, [acc](int64_t o, T x) { acc[o] = wrap_mul(acc[o], static_cast<A>(x)); });
      break;
    case ReduceKind::kL1:
      accumulate(in, p, [&](int64_t o, T x) {
        const A v = static_cast<A>(x);
        add(o, v < A(0) ? static_cast<A>(A(0) - v) : v);
      });
      break;
    case ReduceKind::kL2:
    case ReduceKind::kSumSquare:
      accumulate(in, p, [&](int64_t o, T x) { add(o, wrap_mul(static_cast<A>(x), static_cast<A>(x))); });
      break;
    // NaN propagates: once an accumulator is NaN no comparison replaces it.
    case ReduceKind::kMax:
      accumulate(in, p, [acc](int64_t o, T x) {
        if (static_cast<A>(x) > acc[o] || is_nan(x)) acc[o] = static_cast<A>(x);
      });
      break;
    case ReduceKind::kMin:
      accumulate(in, p, [acc](int64_t o, T x) {
        if (static_cast<A>(x) < acc[o] || is_nan(x)) acc[o] = static_cast<A>(x);
      });
      break;
    case ReduceKind::kLogSumExp: break;  // float-only, see log_sum_exp()
  }
}

// log(sum(exp(x))), shifted by the largest finite element so that exp cannot overflow.
template <class T>
void log_sum_exp(const T* in, const ReducePlan& p, double* acc, int64_t out_numel) {
  std::vector<double> shift(static_cast<size_t>(out_numel), -std::numeric_limits<double>::infinity());
  accumulate(in, p, [&](int64_t o, T x) {
    if (std::isfinite(x) && x > shift[o]) shift[o] = x;
  });
  for (double& m : shift) m = std::isfinite(m) ? m : 0.0;
  accumulate(in, p, [&](int64_t o, T x) { acc[o] += std::exp(static_cast<double>(x) - shift[o]); });
  for (int64_t o = 0; o < out_numel; ++o) acc[o] = std::log(acc[o]) + shift[o];
}

template <class T, class A>
T finish(ReduceKind kind, A a, int64_t count) {
  switch (kind) {
    case ReduceKind::kMean:
      if constexpr (std::is_integral_v<A>)
        return static_cast<T>(count == 0 ? A(0) : a / static_cast<A>(count));
      else
        return static_cast<T>(a / static_cast<double>(count));
    case ReduceKind::kL2: return static_cast<T>(std::sqrt(static_cast<double>(a)));
    case ReduceKind::kLogSum: return static_cast<T>(std::log(static_cast<double>(a)));
    default: return static_cast<T>(a);
  }
}

template <class T>
Status reduce_typed(ReduceKind kind, const Tensor& x, const ReducePlan& plan, Tensor& y) {
  using A = AccOf<T>;
  const int64_t out_numel = y.numel();
  std::vector<A> acc(static_cast<size_t>(out_numel), initial_value<A>(kind));
  if constexpr (std::is_floating_point_v<T>) {
    if (kind == ReduceKind::kLogSumExp)
      log_sum_exp(x.data<T>(), plan, acc.data(), out_numel);
    else
      accumulate_kind(kind, x.data<T>(), plan, acc.data());
  } else {
    accumulate_kind(kind, x.data<T>(), plan, acc.data());
  }
  T* out = y.mutable_data<T>();
  for (int64_t i = 0; i < out_numel; ++i) out[i] = finish<T>(kind, acc[static_cast<size_t>(i)], plan.count);
  return Status::ok();
}

// Logarithms and exponentials of integers would need a rounding rule ONNX does not give.
bool float_only(ReduceKind kind) { return kind == ReduceKind::kLogSum || kind == ReduceKind::kLogSumExp; }

template <ReduceKind kKind>
Status reduce(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const auto& attrs = ctx.attrs<ops::ReduceAttrs>();
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<bool> reduced, reduced_axes(ctx, attrs, x.rank()));
  const ReducePlan plan = make_plan(x.shape(), reduced, attrs.keepdims);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), plan.out_shape);
    return reduce_typed<T>(kKind, x, plan, y);
  };
  return float_only(kKind) ? visit_float(x.dtype(), run) : visit_numeric(x.dtype(), run);
}

FULCRUM_REFERENCE_KERNEL(ReduceSum, reduce<ReduceKind::kSum>);
FULCRUM_REFERENCE_KERNEL(ReduceMean, reduce<ReduceKind::kMean>);
FULCRUM_REFERENCE_KERNEL(ReduceMax, reduce<ReduceKind::kMax>);
FULCRUM_REFERENCE_KERNEL(ReduceMin, reduce<ReduceKind::kMin>);
FULCRUM_REFERENCE_KERNEL(ReduceProd, reduce<ReduceKind::kProd>);
FULCRUM_REFERENCE_KERNEL(ReduceL1, reduce<ReduceKind::kL1>);
FULCRUM_REFERENCE_KERNEL(ReduceL2, reduce<ReduceKind::kL2>);
FULCRUM_REFERENCE_KERNEL(ReduceLogSum, reduce<ReduceKind::kLogSum>);
FULCRUM_REFERENCE_KERNEL(ReduceLogSumExp, reduce<ReduceKind::kLogSumExp>);
FULCRUM_REFERENCE_KERNEL(ReduceSumSquare, reduce<ReduceKind::kSumSquare>);

}  // namespace
}  // namespace fulcrum::backends::reference
