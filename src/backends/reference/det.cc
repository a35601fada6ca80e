// Reference kernel for Det: the determinant of each trailing [M, M] matrix, by LU
// decomposition with partial pivoting in double precision.
#include <cmath>
#include <utility>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"

namespace fulcrum::backends::reference {
namespace {

// Determinant of the row-major m x m matrix `a` (destroyed).
double lu_determinant(std::vector<double>& a, int64_t m) {
  auto at = [&](int64_t r, int64_t c) -> double& { return a[static_cast<size_t>(r * m + c)]; };
  double det = 1.0;
  for (int64_t col = 0; col < m; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < m; ++r)
      if (std::fabs(at(r, col)) > std::fabs(at(pivot, col))) pivot = r;
    if (at(pivot, col) == 0.0) return 0.0;  // singular
    if (pivot != col) {
      for (int64_t c = 0; c < m; ++c) std::swap(at(pivot, c), at(col, c));
      det = -det;
    }
    det *= at(col, col);
    for (int64_t r = col + 1; r < m; ++r) {
      const double factor = at(r, col) / at(col, col);
      for (int64_t c = col; c < m; ++c) at(r, c) -= factor * at(col, c);
    }
  }
  return det;
}

Status det(KernelContext& ctx) {
  if (!ctx.has_input(0)) return invalid_argument("input 'X' is required");
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2 || x.dim(x.rank() - 1) != x.dim(x.rank() - 2))
    return invalid_argument("input 'X' must be [*, M, M] (square matrices), got {}", shape_to_string(x.shape()));
  const int64_t m = x.dim(x.rank() - 1);
  const Shape batch_shape(x.shape().begin(), x.shape().end() - 2);
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(0, x.dtype(), batch_shape).template mutable_data<T>();
    const T* in = x.data<T>();
    std::vector<double> a(static_cast<size_t>(m * m));
    for (int64_t b = 0; b < shape_numel(batch_shape); ++b) {
      for (int64_t i = 0; i < m * m; ++i) a[static_cast<size_t>(i)] = static_cast<double>(in[b * m * m + i]);
      out[b] = static_cast<T>(lu_determinant(a, m));
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Det, det);

}  // namespace
}  // namespace fulcrum::backends::reference
