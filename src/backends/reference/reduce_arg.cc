// Reference kernels for ArgMax and ArgMin.
#include <cmath>
#include <type_traits>

#include <initializer_list>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/reduce.h"

namespace fulcrum::backends::reference {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// Whether v replaces best as the arg-extremum. NaN wins over numbers, as in numpy; ties (and
// NaN after NaN) go to the later index only with select_last_index.
template <bool kMax, class T>
bool replaces(T v, T best, bool last) {
  if (is_nan(best)) return last && is_nan(v);
  if (is_nan(v)) return true;
  if (v == best) return last;
  return kMax ? v > best : v < best;
}

template <bool kMax>
Status arg_reduce(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const auto& attrs = ctx.attrs<ops::ArgReduceAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) return invalid_argument("input 'data' must have rank >= 1, got a scalar");
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, ops::normalize_axis(attrs.axis, x.rank()));
  const int64_t extent = x.dim(axis);
  if (extent == 0) return invalid_argument("axis {} has size 0: there is no element to select", attrs.axis);
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  Shape out_shape = x.shape();
  if (attrs.keepdims)
    out_shape[static_cast<size_t>(axis)] = 1;
  else
    out_shape.erase(out_shape.begin() + axis);
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, DType::kInt64, out_shape);
    int64_t* out = y.mutable_data<int64_t>();
    const T* in = x.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* slice = in + o * extent * inner + i;
        int64_t best = 0;
        for (int64_t a = 1; a < extent; ++a)
          if (replaces<kMax>(slice[a * inner], slice[best * inner], attrs.select_last_index)) best = a;
        out[o * inner + i] = best;
      }
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(ArgMax, arg_reduce<true>);
FULCRUM_REFERENCE_KERNEL(ArgMin, arg_reduce<false>);

}  // namespace
}  // namespace fulcrum::backends::reference
