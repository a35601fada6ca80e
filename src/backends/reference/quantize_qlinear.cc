// Reference kernels for QLinearConv and QLinearMatMul: an exact integer convolution or
// matrix product of (input - zero_point) values, then requantization
//   y = saturate(round_half_to_even(acc * (in_scale * w_scale / y_scale)) + y_zero_point)
// with the multiplier computed in float32, as the ONNX reference and ONNX Runtime do, so
// ties round the same way. The convolution here is deliberately self-contained.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/quantize.h"

namespace fulcrum::backends::reference {
namespace {

double round_half_to_even(double v) {
  if (std::fabs(v - std::trunc(v)) == 0.5) return 2.0 * std::round(v / 2.0);
  return std::round(v);
}

// An int8/uint8 tensor's values, widened.
Result<std::vector<int32_t>> int8_values(const Tensor& t, const char* name) {
  if (t.dtype() != DType::kInt8 && t.dtype() != DType::kUInt8)
    return unimplemented("input '{}' of dtype {} is not supported (int8, uint8)", name, dtype_name(t.dtype()));
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = t.dtype() == DType::kInt8 ? t.data<int8_t>()[i] : t.data<uint8_t>()[i];
  return out;
}

// A scale (float32) or zero point (int8/uint8) input with 1 or `count` values, as doubles.
// A missing zero point is 0.
Result<std::vector<double>> per_channel(const KernelContext& ctx, size_t index, const char* name, int64_t count) {
  if (!ctx.has_input(index)) return std::vector<double>{0.0};
  const Tensor& t = ctx.input(index);
  if (t.rank() > 1 || (t.numel() != 1 && t.numel() != count))
    return invalid_argument("input '{}' has shape {}, expected a scalar or {} values", name, shape_to_string(t.shape()),
                            count);
  if (t.dtype() != DType::kFloat32 && t.dtype() != DType::kInt8 && t.dtype() != DType::kUInt8)
    return unimplemented("input '{}' of dtype {} is not supported", name, dtype_name(t.dtype()));
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(read_as_double(t, i));
  return out;
}

double at(const std::vector<double>& v, int64_t i) { return v.size() == 1 ? v[0] : v[static_cast<size_t>(i)]; }

// Requantizes `acc` to the output dtype (y_zero_point's, else the first input's).
Status write_requantized(KernelContext& ctx, size_t y_zp_index, DType fallback, Shape shape,
                         const std::vector<int64_t>& acc, const std::vector<float>& multiplier,
                         int64_t multiplier_inner, double y_zero_point) {
  const DType dtype = ctx.has_input(y_zp_index) ? ctx.input(y_zp_index).dtype() : fallback;
  auto fill = [&](auto* y, double lo, double hi) {
    for (size_t i = 0; i < acc.size(); ++i) {
      const float m = multiplier.size() == 1
                          ? multiplier[0]
                          : multiplier[(i / static_cast<size_t>(multiplier_inner)) % multiplier.size()];
      const double v = round_half_to_even(static_cast<double>(acc[i]) * m) + y_zero_point;
      y[i] = static_cast<std::remove_pointer_t<decltype(y)>>(std::clamp(v, lo, hi));
    }
  };
  Tensor& y = ctx.allocate_output(0, dtype, std::move(shape));
  if (dtype == DType::kUInt8)
    fill(y.mutable_data<uint8_t>(), 0.0, 255.0);
  else if (dtype == DType::kInt8)
    fill(y.mutable_data<int8_t>(), -128.0, 127.0);
  else
    return unimplemented("output dtype {} is not supported (int8, uint8)", dtype_name(dtype));
  return Status::ok();
}

// ---- QLinearConv ------------------------------------------------------------------------

struct ConvGeometry {
  int64_t n = 0, in_channels = 0, out_channels = 0, group = 1;
  Shape in_spatial, kernel, out_spatial;
  std::vector<int64_t> strides, dilations, pad_begin;
};

Result<ConvGeometry> conv_geometry(const ops::QLinearConvAttrs& a, const Shape& x, const Shape& w) {
  if (x.size() < 3 || w.size() != x.size())
    return invalid_argument("input 'x' {} and 'w' {} must both have rank >= 3 and equal ranks", shape_to_string(x),
                            shape_to_string(w));
  const size_t dims = x.size() - 2;
  ConvGeometry g;
  g.n = x[0], g.in_channels = x[1], g.out_channels = w[0], g.group = a.group;
  g.in_spatial.assign(x.begin() + 2, x.end());
  g.kernel.assign(w.begin() + 2, w.end());
  if (g.in_channels % g.group != 0 || g.out_channels % g.group != 0 || w[1] * g.group != g.in_channels)
    return invalid_argument("'w' {} does not match {} input channels in {} groups", shape_to_string(w), g.in_channels,
                            g.group);
  if (!a.kernel_shape.empty() && Shape(a.kernel_shape) != g.kernel)
    return invalid_argument("attribute 'kernel_shape' {} does not match 'w' {}", shape_to_string(a.kernel_shape),
                            shape_to_string(w));
  g.strides = a.strides.empty() ? std::vector<int64_t>(dims, 1) : a.strides;
  g.dilations = a.dilations.empty() ? std::vector<int64_t>(dims, 1) : a.dilations;
  std::vector<int64_t> pads = a.pads.empty() ? std::vector<int64_t>(2 * dims, 0) : a.pads;
  if (g.strides.size() != dims || g.dilations.size() != dims || pads.size() != 2 * dims)
    return invalid_argument("attributes 'strides', 'dilations' and 'pads' must have {}, {} and {} values", dims, dims,
                            2 * dims);
  for (size_t d = 0; d < dims; ++d) {
    const int64_t extent = (g.kernel[d] - 1) * g.dilations[d] + 1;
    if (a.auto_pad == ops::AutoPad::kSameUpper || a.auto_pad == ops::AutoPad::kSameLower) {
      const int64_t out = (g.in_spatial[d] + g.strides[d] - 1) / g.strides[d];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[d] + extent - g.in_spatial[d]);
      pads[d] = a.auto_pad == ops::AutoPad::kSameUpper ? total / 2 : total - total / 2;
      pads[d + dims] = total - pads[d];
    } else if (a.auto_pad == ops::AutoPad::kValid) {
      pads[d] = pads[d + dims] = 0;
    }
    const int64_t out = (g.in_spatial[d] + pads[d] + pads[d + dims] - extent) / g.strides[d] + 1;
    if (g.in_spatial[d] + pads[d] + pads[d + dims] < extent)
      return invalid_argument("kernel {} (dilated) is larger than the padded input {}", shape_to_string(g.kernel),
                              shape_to_string(g.in_spatial));
    g.out_spatial.push_back(out);
  }
  g.pad_begin.assign(pads.begin(), pads.begin() + static_cast<int64_t>(dims));
  return g;
}

// Advances a multi-index over `shape`, last axis fastest; false after the last one.
bool next_index(std::vector<int64_t>& index, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++index[d] < shape[d]) return true;
    index[d] = 0;
  }
  return false;
}

// Integer convolution of (x - x_zp) with (w - w_zp[m]) plus bias, one int64 per output.
std::vector<int64_t> conv_accumulate(const ConvGeometry& g, const std::vector<int32_t>& x,
                                     const std::vector<int32_t>& w, double x_zp, const std::vector<double>& w_zp,
                                     const std::vector<int64_t>& bias) {
  const int64_t in_size = shape_numel(g.in_spatial), k_size = shape_numel(g.kernel),
                out_size = shape_numel(g.out_spatial);
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const std::vector<int64_t> in_strides = ops::strides_of(g.in_spatial);
  std::vector<int64_t> acc(static_cast<size_t>(g.n * g.out_channels * out_size), 0);
  std::vector<int64_t> o(g.out_spatial.size(), 0), k(g.kernel.size(), 0);
  for (int64_t op = 0; op < out_size; ++op, next_index(o, g.out_spatial)) {
    std::fill(k.begin(), k.end(), 0);
    for (int64_t kp = 0; kp < k_size; ++kp, next_index(k, g.kernel)) {
      int64_t in_offset = 0;  // the input position this kernel tap reads, or -1 in padding
      for (size_t d = 0; d < o.size() && in_offset >= 0; ++d) {
        const int64_t pos = o[d] * g.strides[d] - g.pad_begin[d] + k[d] * g.dilations[d];
        in_offset = pos < 0 || pos >= g.in_spatial[d] ? -1 : in_offset + pos * in_strides[d];
      }
      if (in_offset < 0) continue;  // padding holds the zero point: (x - x_zp) = 0
      for (int64_t b = 0; b < g.n; ++b)
        for (int64_t m = 0; m < g.out_channels; ++m) {
          int64_t sum = 0;
          const int64_t c0 = (m / mg) * cg;
          const int64_t wzp = static_cast<int64_t>(at(w_zp, m));
          for (int64_t c = 0; c < cg; ++c) {
            const int64_t xv = x[static_cast<size_t>((b * g.in_channels + c0 + c) * in_size + in_offset)];
            const int64_t wv = w[static_cast<size_t>((m * cg + c) * k_size + kp)];
            sum += (xv - static_cast<int64_t>(x_zp)) * (wv - wzp);
          }
          acc[static_cast<size_t>((b * g.out_channels + m) * out_size + op)] += sum;
        }
    }
  }
  for (int64_t b = 0; b < g.n && !bias.empty(); ++b)
    for (int64_t m = 0; m < g.out_channels; ++m)
      for (int64_t p = 0; p < out_size; ++p)
        acc[static_cast<size_t>((b * g.out_channels + m) * out_size + p)] += bias[static_cast<size_t>(m)];
  return acc;
}

// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
Status qlinear_conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  FULCRUM_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(ctx.attrs<ops::QLinearConvAttrs>(), x.shape(), w.shape()));
  FULCRUM_ASSIGN_OR_RETURN(auto xs, int8_values(x, "x"));
  FULCRUM_ASSIGN_OR_RETURN(auto ws, int8_values(w, "w"));
  FULCRUM_ASSIGN_OR_RETURN(auto x_scale, per_channel(ctx, 1, "x_scale", 1));
  FULCRUM_ASSIGN_OR_RETURN(auto x_zp, per_channel(ctx, 2, "x_zero_point", 1));
  FULCRUM_ASSIGN_OR_RETURN(auto w_scale, per_channel(ctx, 4, "w_scale", g.out_channels));
  FULCRUM_ASSIGN_OR_RETURN(auto w_zp, per_channel(ctx, 5, "w_zero_point", g.out_channels));
  FULCRUM_ASSIGN_OR_RETURN(auto y_scale, per_channel(ctx, 6, "y_scale", 1));
  FULCRUM_ASSIGN_OR_RETURN(auto y_zp, per_channel(ctx, 7, "y_zero_point", 1));
  std::vector<int64_t> bias;
  if (ctx.has_input(8)) {
    const Tensor& b = ctx.input(8);
    if (b.dtype() != DType::kInt32 || b.numel() != g.out_channels)
      return invalid_argument("input 'B' must be int32 with {} values, got {} {}", g.out_channels,
                              dtype_name(b.dtype()), shape_to_string(b.shape()));
    bias = to_int64_vector(b);
  }
  std::vector<float> multiplier;
  for (double ws_m : w_scale)
    multiplier.push_back(static_cast<float>(x_scale[0]) * static_cast<float>(ws_m) / static_cast<float>(y_scale[0]));
  Shape out_shape{g.n, g.out_channels};
  out_shape.insert(out_shape.end(), g.out_spatial.begin(), g.out_spatial.end());
  auto acc = conv_accumulate(g, xs, ws, x_zp[0], w_zp, bias);
  return write_requantized(ctx, 7, x.dtype(), out_shape, acc, multiplier, shape_numel(g.out_spatial), y_zp[0]);
}

// ---- QLinearMatMul ----------------------------------------------------------------------

// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point, with
// numpy matmul shapes. a's scale/zero point may be per row, b's per column.
Status qlinear_matmul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  if (a.rank() < 1 || b.rank() < 1) return invalid_argument("inputs 'a' and 'b' must have rank >= 1");
  // 1-D operands become a row (a) or a column (b), removed again from the output.
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k)
    return invalid_argument("inputs 'a' {} and 'b' {} have mismatched inner dimensions", shape_to_string(a.shape()),
                            shape_to_string(b.shape()));
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  FULCRUM_ASSIGN_OR_RETURN(Shape batch, ops::broadcast_shapes({a_batch, b_batch}));
  FULCRUM_ASSIGN_OR_RETURN(auto av, int8_values(a, "a"));
  FULCRUM_ASSIGN_OR_RETURN(auto bv, int8_values(b, "b"));
  FULCRUM_ASSIGN_OR_RETURN(auto a_scale, per_channel(ctx, 1, "a_scale", m));
  FULCRUM_ASSIGN_OR_RETURN(auto a_zp, per_channel(ctx, 2, "a_zero_point", m));
  FULCRUM_ASSIGN_OR_RETURN(auto b_scale, per_channel(ctx, 4, "b_scale", n));
  FULCRUM_ASSIGN_OR_RETURN(auto b_zp, per_channel(ctx, 5, "b_zero_point", n));
  FULCRUM_ASSIGN_OR_RETURN(auto y_scale, per_channel(ctx, 6, "y_scale", 1));
  FULCRUM_ASSIGN_OR_RETURN(auto y_zp, per_channel(ctx, 7, "y_zero_point", 1));

  std::vector<int64_t> acc(static_cast<size_t>(shape_numel(batch) * m * n), 0);
  for_each_broadcast(batch, {a_batch, b_batch}, [&](int64_t bi, const int64_t* off) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += (av[static_cast<size_t>((off[0] * m + i) * k + p)] - static_cast<int64_t>(at(a_zp, i))) *
                 (bv[static_cast<size_t>((off[1] * k + p) * n + j)] - static_cast<int64_t>(at(b_zp, j)));
        acc[static_cast<size_t>((bi * m + i) * n + j)] = sum;
      }
  });
  std::vector<float> multiplier;  // per (row, column), row-major [m, n]
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      multiplier.push_back(static_cast<float>(at(a_scale, i)) * static_cast<float>(at(b_scale, j)) /
                           static_cast<float>(y_scale[0]));
  Shape out_shape = batch;
  if (a.rank() > 1) out_shape.push_back(m);
  if (b.rank() > 1) out_shape.push_back(n);
  return write_requantized(ctx, 7, a.dtype(), out_shape, acc, multiplier, 1, y_zp[0]);
}

FULCRUM_REFERENCE_KERNEL(QLinearConv, qlinear_conv);
FULCRUM_REFERENCE_KERNEL(QLinearMatMul, qlinear_matmul);

}  // namespace
}  // namespace fulcrum::backends::reference
