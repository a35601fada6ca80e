// Reference kernel for TopK.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include <initializer_list>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/reduce.h"

namespace fulcrum::backends::reference {
namespace {

// a sorts before b: the larger (or smaller) value first, NaN counting as the largest value
// so that the order stays a strict weak ordering; equal values keep their index order.
template <class T>
bool ranks_before(T a, int64_t ia, T b, int64_t ib, bool largest) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool na = std::isnan(a);
    const bool nb = std::isnan(b);
    if (na || nb) {
      if (na && nb) return ia < ib;
      return largest ? na : nb;
    }
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

Result<int64_t> read_k(const KernelContext& ctx) {
  if (ctx.opset() < 10) return ctx.attrs<ops::TopKAttrs>().k;
  if (!ctx.has_input(1)) return invalid_argument("input 'K' is missing");
  const Tensor& k = ctx.input(1);
  if (k.dtype() != DType::kInt64) return invalid_argument("input 'K' must be int64, got {}", dtype_name(k.dtype()));
  if (k.numel() != 1 || k.rank() > 1)
    return invalid_argument("input 'K' must hold exactly one value, got shape {}", shape_to_string(k.shape()));
  return k.data<int64_t>()[0];
}

Status topk(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X"}));
  const auto& attrs = ctx.attrs<ops::TopKAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) return invalid_argument("input 'X' must have rank >= 1, got a scalar");
  if (ctx.num_outputs() < 2) return invalid_argument("TopK needs two outputs (Values and Indices)");
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, ops::normalize_axis(attrs.axis, x.rank()));
  FULCRUM_ASSIGN_OR_RETURN(int64_t k, read_k(ctx));
  const int64_t extent = x.dim(axis);
  if (k < 0 || k > extent) return invalid_argument("K = {} is out of range for axis {} of size {}", k, axis, extent);
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = k;
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* values = ctx.allocate_output(0, x.dtype(), out_shape).template mutable_data<T>();
    int64_t* indices = ctx.allocate_output(1, DType::kInt64, out_shape).template mutable_data<int64_t>();
    const T* in = x.data<T>();
    std::vector<int64_t> order(static_cast<size_t>(extent));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* slice = in + o * extent * inner + i;
        std::iota(order.begin(), order.end(), int64_t{0});
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
          return ranks_before(slice[a * inner], a, slice[b * inner], b, attrs.largest);
        });
        for (int64_t j = 0; j < k; ++j) {
          const int64_t dst = (o * k + j) * inner + i;
          indices[dst] = order[static_cast<size_t>(j)];
          values[dst] = slice[order[static_cast<size_t>(j)] * inner];
        }
      }
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(TopK, topk);

}  // namespace
}  // namespace fulcrum::backends::reference
