// Reference kernels for Softmax, LogSoftmax and Hardmax. Each works on "rows": the values
// along the reduced axis for one position of the other axes, computed in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/softmax.h"

namespace fulcrum::backends::reference {
namespace {

// The input seen as [outer, n, inner]; each row is n values at stride `inner`.
struct RowLayout {
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
};

Result<RowLayout> row_layout(const Shape& shape, const ops::SoftmaxAttrs& attrs) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  auto axis = ops::normalize_axis(attrs.axis, rank);
  if (!axis.is_ok())
    return invalid_argument("attribute 'axis' {} is out of range for input of rank {}", attrs.axis, rank);
  RowLayout l;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t dim = shape[static_cast<size_t>(d)];
    if (d < *axis)
      l.outer *= dim;
    else if (d == *axis || attrs.coerce_2d)
      l.n *= dim;  // before opset 13, all axes from `axis` on form the row
    else
      l.inner *= dim;
  }
  return l;
}

// Calls fn(in_row, out_row) with row values in double; writes out_row back as T.
template <class RowFn>
Status for_each_row(KernelContext& ctx, RowFn fn) {
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(RowLayout l, row_layout(x.shape(), ctx.attrs<ops::SoftmaxAttrs>()));
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* in = x.data<T>();
    T* out = y.mutable_data<T>();
    std::vector<double> row(static_cast<size_t>(l.n)), result(static_cast<size_t>(l.n));
    for (int64_t o = 0; o < l.outer; ++o) {
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t base = o * l.n * l.inner + i;
        for (int64_t k = 0; k < l.n; ++k) row[static_cast<size_t>(k)] = static_cast<double>(in[base + k * l.inner]);
        fn(row, result);
        for (int64_t k = 0; k < l.n; ++k) out[base + k * l.inner] = static_cast<T>(result[static_cast<size_t>(k)]);
      }
    }
    return Status::ok();
  });
}

// The row's maximum and sum(exp(v - max)): subtracting the maximum keeps exp from overflowing.
std::pair<double, double> max_and_sum_exp(const std::vector<double>& row) {
  double max = -std::numeric_limits<double>::infinity();
  for (double v : row) max = std::max(max, v);
  double sum = 0;
  for (double v : row) sum += std::exp(v - max);
  return {max, sum};
}

Status softmax(KernelContext& ctx) {
  return for_each_row(ctx, [](const std::vector<double>& row, std::vector<double>& out) {
    const auto [max, sum] = max_and_sum_exp(row);
    for (size_t k = 0; k < row.size(); ++k) out[k] = std::exp(row[k] - max) / sum;
  });
}

Status log_softmax(KernelContext& ctx) {
  return for_each_row(ctx, [](const std::vector<double>& row, std::vector<double>& out) {
    const auto [max, sum] = max_and_sum_exp(row);
    const double log_sum = std::log(sum);
    for (size_t k = 0; k < row.size(); ++k) out[k] = row[k] - max - log_sum;
  });
}

// 1 at the first maximum of each row (a NaN counts as the maximum, as numpy's argmax), else 0.
Status hardmax(KernelContext& ctx) {
  return for_each_row(ctx, [](const std::vector<double>& row, std::vector<double>& out) {
    size_t best = 0;
    for (size_t k = 1; k < row.size(); ++k) {
      if (std::isnan(row[best])) break;
      if (row[k] > row[best] || std::isnan(row[k])) best = k;
    }
    for (size_t k = 0; k < row.size(); ++k) out[k] = k == best ? 1.0 : 0.0;
  });
}

FULCRUM_REFERENCE_KERNEL(Softmax, softmax);
FULCRUM_REFERENCE_KERNEL(LogSoftmax, log_softmax);
FULCRUM_REFERENCE_KERNEL(Hardmax, hardmax);

}  // namespace
}  // namespace fulcrum::backends::reference
