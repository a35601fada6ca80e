// Reference kernel for Unique. The input is viewed as [outer, extent, inner] around the
// chosen axis (the flattened input is [1, numel, 1]); "elements" are the extent slices,
// compared lexicographically, as numpy.unique does. A stable sort keeps equal slices in
// input order, so each group's first member is its first occurrence.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/misc.h"

namespace fulcrum::backends::reference {
namespace {

// NaN sorts after every number and equals itself, as numpy.unique treats it.
template <class T>
int compare_values(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) == std::isnan(b) ? 0 : (std::isnan(a) ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}

struct SliceLayout {
  int64_t outer = 1, extent = 1, inner = 1;
};

template <class T>
int compare_slices(const T* data, const SliceLayout& l, int64_t a, int64_t b) {
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      const int64_t base = o * l.extent * l.inner + i;
      if (int c = compare_values(data[base + a * l.inner], data[base + b * l.inner]); c != 0) return c;
    }
  return 0;
}

// The unique slices as (first occurrence, count), in output order, and each slice's group.
struct Groups {
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  std::vector<int64_t> inverse;
};

template <class T>
Groups group_slices(const T* data, const SliceLayout& l, bool sorted) {
  std::vector<int64_t> order(static_cast<size_t>(l.extent));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare_slices(data, l, a, b) < 0; });
  Groups g;
  std::vector<int64_t> group_of(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || compare_slices(data, l, order[k - 1], order[k]) != 0) {
      g.first.push_back(order[k]);
      g.count.push_back(0);
    }
    ++g.count.back();
    group_of[static_cast<size_t>(order[k])] = static_cast<int64_t>(g.first.size()) - 1;
  }
  // rank[j]: where sorted group j lands in the output.
  std::vector<int64_t> rank(g.first.size());
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_occurrence(g.first.size());
    std::iota(by_occurrence.begin(), by_occurrence.end(), 0);
    std::sort(by_occurrence.begin(), by_occurrence.end(),
              [&](int64_t a, int64_t b) { return g.first[static_cast<size_t>(a)] < g.first[static_cast<size_t>(b)]; });
    Groups reordered;
    for (size_t j = 0; j < by_occurrence.size(); ++j) {
      const auto src = static_cast<size_t>(by_occurrence[j]);
      reordered.first.push_back(g.first[src]);
      reordered.count.push_back(g.count[src]);
      rank[src] = static_cast<int64_t>(j);
    }
    g.first = std::move(reordered.first);
    g.count = std::move(reordered.count);
  }
  for (int64_t group : group_of) g.inverse.push_back(rank[static_cast<size_t>(group)]);
  return g;
}

void write_int64(KernelContext& ctx, size_t i, const std::vector<int64_t>& values) {
  if (i >= ctx.num_outputs() || !ctx.wants_output(i)) return;
  Tensor& t = ctx.allocate_output(i, DType::kInt64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.mutable_data<int64_t>());
}

Status unique(KernelContext& ctx) {
  if (!ctx.has_input(0)) return invalid_argument("input 'X' is required");
  const Tensor& x = ctx.input(0);
  const auto& a = ctx.attrs<ops::UniqueAttrs>();
  SliceLayout l;
  int64_t axis = 0;
  if (a.axis) {
    if (x.rank() == 0) return invalid_argument("attribute 'axis' needs an input of rank >= 1, got a scalar");
    FULCRUM_ASSIGN_OR_RETURN(axis, ops::normalize_axis(*a.axis, x.rank()));
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d < axis) l.outer *= x.dim(d);
      if (d > axis) l.inner *= x.dim(d);
    }
    l.extent = x.dim(axis);
  } else {
    l.extent = x.numel();
  }
  return visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* data = x.data<T>();
    const Groups g = group_slices(data, l, a.sorted);
    const auto unique_count = static_cast<int64_t>(g.first.size());
    Shape y_shape = {unique_count};
    if (a.axis) {
      y_shape = x.shape();
      y_shape[static_cast<size_t>(axis)] = unique_count;
    }
    T* y = ctx.allocate_output(0, x.dtype(), y_shape).template mutable_data<T>();
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t u = 0; u < unique_count; ++u)
        for (int64_t i = 0; i < l.inner; ++i)
          y[(o * unique_count + u) * l.inner + i] =
              data[(o * l.extent + g.first[static_cast<size_t>(u)]) * l.inner + i];
    write_int64(ctx, 1, g.first);
    write_int64(ctx, 2, g.inverse);
    write_int64(ctx, 3, g.count);
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Unique, unique);

}  // namespace
}  // namespace fulcrum::backends::reference
