// Reference kernels for Resize and Upsample.
//
// Resampling is separable: each axis is resampled in turn, in double precision, like the
// ONNX reference implementation. For one axis every output coordinate x maps to an input
// coordinate (the spec's x_original) and from there to a few input indices with weights
// (1 for nearest, 2 for linear, 4 for cubic), clamped into the input as if it were
// edge-padded; tf_crop_and_resize coordinates outside the input give extrapolation_value.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/resize.h"

namespace fulcrum::backends::reference {
namespace {

using ops::CoordinateTransform;
using ops::NearestMode;
using ops::ResizeAttrs;
using ops::ResizeMode;

// Per axis: the output length, the scale, and the spec's length_resized, which is
// input length * scale (unrounded) when scales are given, as the conformance data expects.
struct ResizeGeometry {
  Shape out_shape;
  std::vector<double> scales;
  std::vector<double> lengths;
  std::vector<double> roi;  // starts then ends, 2 * rank values; empty when not given
};

// For one axis: per output coordinate, `taps` clamped input indices with their weights, or
// the extrapolation value.
struct AxisPlan {
  int64_t in_size = 0;
  int64_t out_size = 0;
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<bool> extrapolate;
};

// Reads a 1-D float tensor (scales, roi); an absent or empty one reads as empty.
Result<std::vector<double>> read_floats(const KernelContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return std::vector<double>();
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::kFloat32 && t.dtype() != DType::kFloat64)
    return invalid_argument("input '{}' must be float32 or float64, got {}", name, dtype_name(t.dtype()));
  std::vector<double> out(static_cast<size_t>(t.numel()));
  for (int64_t k = 0; k < t.numel(); ++k) out[static_cast<size_t>(k)] = read_as_double(t, k);
  return out;
}

Result<std::vector<int64_t>> read_sizes(const KernelContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return std::vector<int64_t>();
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::kInt64) return invalid_argument("input 'sizes' must be int64, got {}", dtype_name(t.dtype()));
  return to_int64_vector(t);
}

Status geometry_from_scales(const Shape& in, const std::vector<double>& scales, ResizeGeometry& g) {
  if (scales.size() != in.size())
    return invalid_argument("input 'scales' has {} values for an input of rank {}", scales.size(), in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (!(scales[d] > 0) || !std::isfinite(scales[d]))
      return invalid_argument("input 'scales' must be positive, got {} for axis {}", scales[d], d);
    g.lengths.push_back(static_cast<double>(in[d]) * scales[d]);
    g.out_shape.push_back(static_cast<int64_t>(std::floor(g.lengths.back())));
  }
  g.scales = scales;
  return Status::ok();
}

Status geometry_from_sizes(const Shape& in, const std::vector<int64_t>& sizes, ResizeGeometry& g) {
  if (sizes.size() != in.size())
    return invalid_argument("input 'sizes' has {} values for an input of rank {}", sizes.size(), in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (sizes[d] < 0) return invalid_argument("input 'sizes' must be non-negative, got {} for axis {}", sizes[d], d);
    if (in[d] == 0 && sizes[d] > 0)
      return invalid_argument("axis {} has size 0 and cannot be resized to {}", d, sizes[d]);
    g.scales.push_back(in[d] == 0 ? 1.0 : static_cast<double>(sizes[d]) / static_cast<double>(in[d]));
    g.lengths.push_back(static_cast<double>(sizes[d]));
  }
  g.out_shape = sizes;
  return Status::ok();
}

// Reads scales, sizes and roi from where the op and opset keep them.
Result<ResizeGeometry> read_geometry(const KernelContext& ctx, const Shape& in) {
  const auto& attrs = ctx.attrs<ResizeAttrs>();
  const bool upsample = ctx.node().op_type == "Upsample";
  ResizeGeometry g;
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (upsample && ctx.opset() < 9) {
    scales.assign(attrs.scales.begin(), attrs.scales.end());
  } else if (upsample || ctx.opset() < 11) {
    FULCRUM_ASSIGN_OR_RETURN(scales, read_floats(ctx, 1, "scales"));
    if (scales.empty()) return invalid_argument("input 'scales' is missing or empty");
  } else {
    FULCRUM_ASSIGN_OR_RETURN(g.roi, read_floats(ctx, 1, "roi"));
    FULCRUM_ASSIGN_OR_RETURN(scales, read_floats(ctx, 2, "scales"));
    FULCRUM_ASSIGN_OR_RETURN(sizes, read_sizes(ctx, 3));
    if (scales.empty() == sizes.empty())
      return invalid_argument("exactly one of inputs 'scales' and 'sizes' must be given");
  }
  if (attrs.transform == CoordinateTransform::kTfCropAndResize && g.roi.size() != 2 * in.size())
    return invalid_argument("tf_crop_and_resize needs input 'roi' with {} values, got {}", 2 * in.size(), g.roi.size());
  if (!sizes.empty())
    FULCRUM_RETURN_IF_ERROR(geometry_from_sizes(in, sizes, g));
  else
    FULCRUM_RETURN_IF_ERROR(geometry_from_scales(in, scales, g));
  return g;
}

// The spec's x_original for output coordinate x of axis d.
double source_coordinate(CoordinateTransform t, double x, const ResizeGeometry& g, size_t d, int64_t in_size) {
  const double scale = g.scales[d];
  const double length = g.lengths[d];
  const double in_extent = static_cast<double>(in_size - 1);
  switch (t) {
    case CoordinateTransform::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case CoordinateTransform::kPytorchHalfPixel: return length > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CoordinateTransform::kAlignCorners: return length == 1 ? 0.0 : x * in_extent / (length - 1);
    case CoordinateTransform::kAsymmetric: return x / scale;
    case CoordinateTransform::kTfHalfPixelForNn: return (x + 0.5) / scale;
    case CoordinateTransform::kTfCropAndResize: {
      const double start = g.roi[d];
      const double end = g.roi[d + g.out_shape.size()];
      if (length > 1) return start * in_extent + x * (end - start) * in_extent / (length - 1);
      return 0.5 * (start + end) * in_extent;
    }
  }
  return x;
}

double nearest_index(NearestMode mode, double x, double scale) {
  switch (mode) {
    case NearestMode::kRoundPreferFloor: return std::ceil(x - 0.5);
    case NearestMode::kRoundPreferCeil: return std::floor(x + 0.5);
    case NearestMode::kFloor: return std::floor(x);
    case NearestMode::kCeil: return std::ceil(x);
    case NearestMode::kLegacy: return scale < 1 ? std::ceil(x) : std::floor(x);
  }
  return x;
}

// Keys' cubic convolution weights for the taps at floor(x) - 1 .. floor(x) + 2, where
// t = x - floor(x).
void cubic_weights(double t, double a, double* w) {
  auto near = [a](double s) { return ((a + 2) * s - (a + 3)) * s * s + 1; };       // |s| <= 1
  auto far = [a](double s) { return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a; };  // 1 < |s| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

// The taps of output coordinate j of an axis (before clamping).
void fill_taps(const ResizeAttrs& attrs, double x, double scale, int64_t j, AxisPlan& p) {
  const size_t at = static_cast<size_t>(j * p.taps);
  if (attrs.mode == ResizeMode::kNearest) {
    p.index[at] = static_cast<int64_t>(nearest_index(attrs.nearest_mode, x, scale));
    p.weight[at] = 1.0;
    return;
  }
  const double base = std::floor(x);
  const double t = x - base;
  const int64_t first = static_cast<int64_t>(base) - (attrs.mode == ResizeMode::kCubic ? 1 : 0);
  for (int64_t k = 0; k < p.taps; ++k) p.index[at + static_cast<size_t>(k)] = first + k;
  if (attrs.mode == ResizeMode::kLinear) {
    p.weight[at] = 1 - t;
    p.weight[at + 1] = t;
  } else {
    cubic_weights(t, attrs.cubic_coeff_a, &p.weight[at]);
  }
  if (!attrs.exclude_outside) return;
  double sum = 0;
  for (int64_t k = 0; k < p.taps; ++k) {
    double& w = p.weight[at + static_cast<size_t>(k)];
    const int64_t i = p.index[at + static_cast<size_t>(k)];
    if (i < 0 || i >= p.in_size) w = 0;
    sum += w;
  }
  if (sum != 0)
    for (int64_t k = 0; k < p.taps; ++k) p.weight[at + static_cast<size_t>(k)] /= sum;
}

AxisPlan plan_axis(const ResizeAttrs& attrs, const ResizeGeometry& g, size_t d, int64_t in_size) {
  AxisPlan p;
  p.in_size = in_size;
  p.out_size = g.out_shape[d];
  p.taps = attrs.mode == ResizeMode::kNearest ? 1 : attrs.mode == ResizeMode::kLinear ? 2 : 4;
  p.index.assign(static_cast<size_t>(p.out_size * p.taps), 0);
  p.weight.assign(p.index.size(), 0.0);
  p.extrapolate.assign(static_cast<size_t>(p.out_size), false);
  for (int64_t j = 0; j < p.out_size; ++j) {
    const double x = source_coordinate(attrs.transform, static_cast<double>(j), g, d, in_size);
    if (attrs.transform == CoordinateTransform::kTfCropAndResize && (x < 0 || x > static_cast<double>(in_size - 1))) {
      p.extrapolate[static_cast<size_t>(j)] = true;
      continue;
    }
    // Coordinates far outside the input (or NaN) only ever read the edge pixels.
    const double bounded = std::isnan(x) ? 0.0 : std::clamp(x, -4.0, static_cast<double>(in_size) + 4.0);
    fill_taps(attrs, bounded, g.scales[d], j, p);
  }
  for (int64_t& i : p.index) i = std::clamp<int64_t>(i, 0, std::max<int64_t>(in_size - 1, 0));
  return p;
}

// Whether the plan copies the axis unchanged (skipped, so infinities stay where they are).
bool is_identity(const AxisPlan& p) {
  if (p.in_size != p.out_size) return false;
  for (int64_t j = 0; j < p.out_size; ++j) {
    if (p.extrapolate[static_cast<size_t>(j)]) return false;
    for (int64_t k = 0; k < p.taps; ++k) {
      const size_t at = static_cast<size_t>(j * p.taps + k);
      if (p.weight[at] != (p.index[at] == j ? 1.0 : 0.0)) return false;
    }
  }
  return true;
}

// Resamples axis d of `in` (shape `shape`, updated to the new shape).
std::vector<double> resample_axis(const std::vector<double>& in, Shape& shape, size_t d, const AxisPlan& p,
                                  double extrapolation_value) {
  int64_t outer = 1;
  int64_t inner = 1;
  for (size_t k = 0; k < d; ++k) outer *= shape[k];
  for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  std::vector<double> out(static_cast<size_t>(outer * p.out_size * inner), 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < p.out_size; ++j) {
      double* dst = out.data() + (o * p.out_size + j) * inner;
      if (p.extrapolate[static_cast<size_t>(j)]) {
        std::fill(dst, dst + inner, extrapolation_value);
        continue;
      }
      for (int64_t k = 0; k < p.taps; ++k) {
        const double w = p.weight[static_cast<size_t>(j * p.taps + k)];
        if (w == 0) continue;  // an exactly-hit pixel ignores its neighbours, even infinite ones
        const double* src = in.data() + (o * p.in_size + p.index[static_cast<size_t>(j * p.taps + k)]) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += w * src[i];
      }
    }
  }
  shape[d] = p.out_size;
  return out;
}

// Integers round half to even and saturate, like the ONNX reference's saturate_cast.
template <class T>
T cast_result(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T(0);
    v = std::nearbyint(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

Status resize(KernelContext& ctx) {
  if (!ctx.has_input(0)) return invalid_argument("required input 0 ('X') is missing");
  const auto& attrs = ctx.attrs<ResizeAttrs>();
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(ResizeGeometry g, read_geometry(ctx, x.shape()));
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    std::vector<double> buf(in, in + x.numel());
    Shape shape = x.shape();
    for (size_t d = 0; d < shape.size(); ++d) {
      const AxisPlan plan = plan_axis(attrs, g, d, shape[d]);
      if (!is_identity(plan)) buf = resample_axis(buf, shape, d, plan, attrs.extrapolation_value);
    }
    T* out = ctx.allocate_output(0, x.dtype(), g.out_shape).template mutable_data<T>();
    for (size_t i = 0; i < buf.size(); ++i) out[i] = cast_result<T>(buf[i]);
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Resize, resize);
FULCRUM_REFERENCE_KERNEL(Upsample, resize);

}  // namespace
}  // namespace fulcrum::backends::reference
