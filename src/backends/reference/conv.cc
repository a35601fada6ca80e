// Reference kernels for Conv and ConvInteger: im2col per image and group, then one matrix
// product with the group's weights (gemm.h), then the bias.
#include <algorithm>
#include <vector>

#include "backends/reference/conv_im2col.h"
#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/conv.h"

namespace fulcrum::backends::reference {
namespace {

std::vector<int64_t> spatial_dims(const Shape& s) { return std::vector<int64_t>(s.begin() + 2, s.end()); }

// The sizes a conv works with, checked against each other.
struct ConvProblem {
  int64_t batch = 0, channels = 0, out_channels = 0, group = 1;
  ops::WindowGeometry g;
  Shape y_shape;
};

Result<ConvProblem> conv_problem(const Tensor& x, const Tensor& w, const ops::ConvAttrs& a) {
  if (x.rank() < 3)
    return invalid_argument("input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_to_string(x.shape()));
  if (w.rank() != x.rank())
    return invalid_argument("weights W {} must have the rank of X {}", shape_to_string(w.shape()),
                            shape_to_string(x.shape()));
  ConvProblem p;
  p.batch = x.dim(0);
  p.channels = x.dim(1);
  p.out_channels = w.dim(0);
  p.group = a.group;
  if (p.channels != w.dim(1) * p.group)
    return invalid_argument("X has {} channels but W {} with group {} expects {}", p.channels,
                            shape_to_string(w.shape()), p.group, w.dim(1) * p.group);
  if (p.out_channels % p.group != 0)
    return invalid_argument("W has {} output channels, not a multiple of group {}", p.out_channels, p.group);
  FULCRUM_ASSIGN_OR_RETURN(p.g, ops::window_geometry(a, spatial_dims(x.shape()), spatial_dims(w.shape())));
  p.y_shape = {p.batch, p.out_channels};
  p.y_shape.insert(p.y_shape.end(), p.g.out.begin(), p.g.out.end());
  return p;
}

// Y[b, group gi] = W[group gi] (mg x kdim) * im2col(X[b, group gi]) (kdim x out_size).
template <class T>
void conv_forward(const ConvProblem& p, const T* x, const T* w, T* y) {
  const ops::WindowGeometry& g = p.g;
  const int64_t cg = p.channels / p.group;
  const int64_t mg = p.out_channels / p.group;
  const int64_t kdim = cg * g.kernel_size();
  const int64_t in_size = g.in_size();
  const int64_t out_size = g.out_size();
  // A 1x1 kernel with unit strides and no padding reads the image as it is.
  bool pointwise = true;
  for (size_t d = 0; d < g.rank(); ++d)
    pointwise = pointwise && g.kernel[d] == 1 && g.strides[d] == 1 && g.pad_begin[d] == 0 && g.pad_end[d] == 0;
  auto one = [&](int64_t b, int64_t gi, std::vector<T>& col, bool threaded) {
    const T* image = x + (b * p.channels + gi * cg) * in_size;
    if (!pointwise && threaded) {
      // Each channel fills its own rows of col, so channels split across threads.
      const int64_t rows = g.kernel_size() * out_size;
      parallel_for(cg, cg * rows,
                   [&](int64_t c0, int64_t c1) { im2col(image + c0 * in_size, c1 - c0, g, col.data() + c0 * rows); });
    } else if (!pointwise) {
      im2col(image, cg, g, col.data());
    }
    const T* rhs = pointwise ? image : col.data();
    T* out = y + (b * p.out_channels + gi * mg) * out_size;
    if (threaded)
      gemm<T>(false, false, mg, out_size, kdim, w + gi * mg * kdim, kdim, rhs, out_size, out, out_size);
    else
      gemm_serial<T>(false, false, mg, out_size, kdim, w + gi * mg * kdim, kdim, rhs, out_size, out, out_size);
  };
  const size_t col_size = pointwise ? 0 : static_cast<size_t>(kdim * out_size);
  if (p.group == 1) {
    std::vector<T> col(col_size);
    for (int64_t b = 0; b < p.batch; ++b) one(b, 0, col, true);
    return;
  }
  // Many small groups (depthwise): spread the groups over threads instead.
  parallel_for(p.batch * p.group, p.batch * p.out_channels * kdim * out_size, [&](int64_t begin, int64_t end) {
    std::vector<T> col(col_size);
    for (int64_t i = begin; i < end; ++i) one(i / p.group, i % p.group, col, false);
  });
}

template <class T>
void add_channel_bias(const ConvProblem& p, const T* bias, T* y) {
  const int64_t out_size = p.g.out_size();
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t m = 0; m < p.out_channels; ++m) {
      T* row = y + (b * p.out_channels + m) * out_size;
      for (int64_t i = 0; i < out_size; ++i) row[i] += bias[m];
    }
}

Status conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  FULCRUM_ASSIGN_OR_RETURN(ConvProblem p, conv_problem(x, w, ctx.attrs<ops::ConvAttrs>()));
  if (w.dtype() != x.dtype())
    return invalid_argument("W has dtype {} but X has {}", dtype_name(w.dtype()), dtype_name(x.dtype()));
  const bool has_bias = ctx.has_input(2);
  if (has_bias) {
    const Tensor& bias = ctx.input(2);
    if (bias.dtype() != x.dtype() || bias.rank() != 1 || bias.dim(0) != p.out_channels)
      return invalid_argument("bias B must be a 1-D {} tensor of {} values, got {} {}", dtype_name(x.dtype()),
                              p.out_channels, dtype_name(bias.dtype()), shape_to_string(bias.shape()));
  }
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), p.y_shape);
    conv_forward<T>(p, x.data<T>(), w.data<T>(), y.mutable_data<T>());
    if (has_bias) add_channel_bias<T>(p, ctx.input(2).data<T>(), y.mutable_data<T>());
    return Status::ok();
  });
}

bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// Widens an 8-bit tensor to int32, subtracting zero_point[i / group_size] (a scalar
// zero point is one group covering the whole tensor).
std::vector<int32_t> widen(const Tensor& t, const Tensor* zero_point, int64_t group_size) {
  const std::vector<int64_t> zps = zero_point ? to_int64_vector(*zero_point) : std::vector<int64_t>{0};
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  Status s = visit_int(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t zp = zps[zps.size() == 1 ? 0 : static_cast<size_t>(i / group_size)];
      out[static_cast<size_t>(i)] = static_cast<int32_t>(static_cast<int64_t>(in[i]) - zp);
    }
    return Status::ok();
  });
  (void)s;  // callers pass 8-bit tensors only
  return out;
}

Status conv_integer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  if (!is_8bit(x.dtype()) || !is_8bit(w.dtype()))
    return unimplemented("ConvInteger supports int8/uint8 inputs, got X {} and W {}", dtype_name(x.dtype()),
                         dtype_name(w.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(ConvProblem p, conv_problem(x, w, ctx.attrs<ops::ConvAttrs>()));
  const Tensor* x_zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* w_zp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  if (x_zp && (x_zp->numel() != 1 || x_zp->dtype() != x.dtype()))
    return invalid_argument("x_zero_point must be a single {} value, got {} {}", dtype_name(x.dtype()),
                            dtype_name(x_zp->dtype()), shape_to_string(x_zp->shape()));
  if (w_zp &&
      ((w_zp->numel() != 1 && w_zp->numel() != p.out_channels) || w_zp->rank() > 1 || w_zp->dtype() != w.dtype()))
    return invalid_argument(
        "w_zero_point must be a {} scalar or 1-D tensor of {} values (one per output channel), "
        "got {} {}",
        dtype_name(w.dtype()), p.out_channels, dtype_name(w_zp->dtype()), shape_to_string(w_zp->shape()));
  // Padding reads 0 after the zero point is subtracted, i.e. it pads with the zero point.
  const std::vector<int32_t> xs = widen(x, x_zp, std::max<int64_t>(1, x.numel()));
  const std::vector<int32_t> ws =
      widen(w, w_zp, std::max<int64_t>(1, w.numel() / std::max<int64_t>(1, p.out_channels)));
  Tensor& y = ctx.allocate_output(0, DType::kInt32, p.y_shape);
  conv_forward<int32_t>(p, xs.data(), ws.data(), y.mutable_data<int32_t>());
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Conv, conv);
FULCRUM_REFERENCE_KERNEL(ConvInteger, conv_integer);

}  // namespace
}  // namespace fulcrum::backends::reference
