// Reference kernel for ConvTranspose: the adjoint of Conv. Per image and group, the
// weights' transpose times the input gives one column per input position (gemm.h); col2im
// scatters the columns into the output, then the bias is added.
#include <vector>

#include "backends/reference/conv_im2col.h"
#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/conv.h"

namespace fulcrum::backends::reference {
namespace {

struct TransposeProblem {
  int64_t batch = 0, channels = 0, out_channels = 0, group = 1;
  ops::WindowGeometry g;  // the forward conv: .in is Y's spatial shape, .out is X's
  Shape y_shape;
};

Result<TransposeProblem> transpose_problem(const Tensor& x, const Tensor& w, const ops::ConvTransposeAttrs& a) {
  if (x.rank() < 3)
    return invalid_argument("input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_to_string(x.shape()));
  if (w.rank() != x.rank())
    return invalid_argument("weights W {} must have the rank of X {}", shape_to_string(w.shape()),
                            shape_to_string(x.shape()));
  TransposeProblem p;
  p.batch = x.dim(0);
  p.channels = x.dim(1);
  p.group = a.group;
  p.out_channels = w.dim(1) * p.group;
  if (w.dim(0) != p.channels)
    return invalid_argument("X has {} channels but W {} expects {} (W is C x M/group x kernel...)", p.channels,
                            shape_to_string(w.shape()), w.dim(0));
  if (p.channels % p.group != 0)
    return invalid_argument("X has {} channels, not a multiple of group {}", p.channels, p.group);
  const std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  FULCRUM_ASSIGN_OR_RETURN(p.g, ops::conv_transpose_geometry(a, in, kernel));
  p.y_shape = {p.batch, p.out_channels};
  p.y_shape.insert(p.y_shape.end(), p.g.in.begin(), p.g.in.end());
  return p;
}

template <class T>
void conv_transpose_forward(const TransposeProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const ops::WindowGeometry& g = p.g;
  const int64_t cg = p.channels / p.group;
  const int64_t mg = p.out_channels / p.group;
  const int64_t rows = mg * g.kernel_size();  // one per (output channel, kernel offset)
  const int64_t x_size = g.out_size();
  const int64_t y_size = g.in_size();
  std::vector<T> col(static_cast<size_t>(rows * x_size));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t gi = 0; gi < p.group; ++gi) {
      // col (rows x x_size) = W[group gi]^T (rows x cg) * X[b, group gi] (cg x x_size)
      gemm<T>(true, false, rows, x_size, cg, w + gi * cg * rows, rows, x + (b * p.channels + gi * cg) * x_size, x_size,
              col.data(), x_size);
      col2im(col.data(), mg, g, y + (b * p.out_channels + gi * mg) * y_size);
    }
    if (bias == nullptr) continue;
    for (int64_t m = 0; m < p.out_channels; ++m) {
      T* row = y + (b * p.out_channels + m) * y_size;
      for (int64_t i = 0; i < y_size; ++i) row[i] += bias[m];
    }
  }
}

Status conv_transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  FULCRUM_ASSIGN_OR_RETURN(TransposeProblem p, transpose_problem(x, w, ctx.attrs<ops::ConvTransposeAttrs>()));
  if (w.dtype() != x.dtype())
    return invalid_argument("W has dtype {} but X has {}", dtype_name(w.dtype()), dtype_name(x.dtype()));
  const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (bias && (bias->dtype() != x.dtype() || bias->rank() != 1 || bias->dim(0) != p.out_channels))
    return invalid_argument("bias B must be a 1-D {} tensor of {} values, got {} {}", dtype_name(x.dtype()),
                            p.out_channels, dtype_name(bias->dtype()), shape_to_string(bias->shape()));
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), p.y_shape);  // zero-filled: col2im accumulates
    conv_transpose_forward<T>(p, x.data<T>(), w.data<T>(), bias ? bias->data<T>() : nullptr, y.mutable_data<T>());
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(ConvTranspose, conv_transpose);

}  // namespace
}  // namespace fulcrum::backends::reference
