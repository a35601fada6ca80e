// Reference kernel for GridSample. Each output point reads a normalized position from the
// grid (x first: grid[..., 0] indexes the last spatial axis), maps it to pixel space, and
// interpolates separably over the spatial axes. The coordinate and padding rules follow
// the ONNX reference implementation (itself PyTorch's grid_sampler): a position outside the
// image is first clamped (border) or reflected (reflection), then every interpolation tap is
// padded the same way, or reads 0 (zeros).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/detection.h"

namespace fulcrum::backends::reference {
namespace {

using ops::GridSampleMode;
using ops::GridSamplePadding;

// A spatial axis of the input and the pixel-space range the grid's [-1, 1] covers.
struct SpatialAxis {
  int64_t size = 0;
  double lo = 0.0, hi = 0.0;
};

SpatialAxis spatial_axis(int64_t size, bool align_corners) {
  if (align_corners) return {size, 0.0, static_cast<double>(size - 1)};  // -1 and 1 are corner pixel centers
  return {size, -0.5, static_cast<double>(size) - 0.5};                  // -1 and 1 are the image's outer edges
}

double denormalize(double n, const SpatialAxis& ax, bool align_corners) {
  if (align_corners) return (n + 1.0) / 2.0 * static_cast<double>(ax.size - 1);
  return ((n + 1.0) * static_cast<double>(ax.size) - 1.0) / 2.0;
}

// Reflects x off lo and hi until it lies in [lo, hi].
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0.0 || !std::isfinite(x)) return lo;
  if (x >= lo && x <= hi) return x;
  const bool below = x < lo;
  const double dx = below ? lo - x : x - hi;
  const double flips = std::floor(dx / range);
  const double r = dx - flips * range;
  const bool even = std::fmod(flips, 2.0) == 0.0;
  if (below) return even ? lo + r : hi - r;
  return even ? hi - r : lo + r;
}

// The interpolation taps of one spatial axis: pixel indices (before padding) and weights.
struct Taps {
  int64_t index[4] = {0, 0, 0, 0};
  double weight[4] = {0, 0, 0, 0};
  int count = 0;
};

// Keys' cubic convolution weights (alpha = -0.75) for a position t in [0, 1) past tap 1.
void cubic_weights(double t, double* w) {
  constexpr double a = -0.75;
  auto near = [](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };       // |d| <= 1
  auto far = [](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 < |d| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

Taps axis_taps(double n, const SpatialAxis& ax, const ops::GridSampleAttrs& a) {
  double x = denormalize(n, ax, a.align_corners);
  if (a.mode == GridSampleMode::kNearest) x = std::nearbyint(x);  // halves round to even, as PyTorch does
  if (std::isnan(x) || x < ax.lo || x > ax.hi) {
    if (a.padding == GridSamplePadding::kBorder)
      x = std::isnan(x) ? 0.0 : std::clamp(x, 0.0, static_cast<double>(ax.size - 1));
    else if (a.padding == GridSamplePadding::kReflection)
      x = std::isnan(x) ? ax.lo : reflect(x, ax.lo, ax.hi);
    else  // zeros: every tap beyond ~3 pixels out reads 0; clamping keeps the index arithmetic finite
      x = std::isnan(x) ? ax.lo - 3.0 : std::clamp(x, ax.lo - 3.0, ax.hi + 3.0);
  }
  Taps taps;
  if (a.mode == GridSampleMode::kNearest) {
    taps.count = 1;
    taps.index[0] = static_cast<int64_t>(x);
    taps.weight[0] = 1.0;
    return taps;
  }
  const double x0 = std::floor(x);
  const double t = x - x0;
  const auto i0 = static_cast<int64_t>(x0);
  if (a.mode == GridSampleMode::kLinear) {
    taps.count = 2;
    taps.index[0] = i0;
    taps.index[1] = i0 + 1;
    taps.weight[0] = 1.0 - t;
    taps.weight[1] = t;
    return taps;
  }
  taps.count = 4;
  for (int k = 0; k < 4; ++k) taps.index[k] = i0 - 1 + k;
  cubic_weights(t, taps.weight);
  return taps;
}

// A tap's pixel index after padding, or -1 where it reads the zero padding.
int64_t padded_index(int64_t i, const SpatialAxis& ax, GridSamplePadding padding) {
  if (i >= 0 && i < ax.size) return i;
  if (padding == GridSamplePadding::kZeros) return -1;
  if (padding == GridSamplePadding::kBorder) return std::clamp<int64_t>(i, 0, ax.size - 1);
  const auto r = static_cast<int64_t>(reflect(static_cast<double>(i), ax.lo, ax.hi));
  return std::clamp<int64_t>(r, 0, ax.size - 1);
}

// Where each combination of taps reads (offset within a channel plane, -1: zero padding) and its weight.
struct Stencil {
  std::vector<int64_t> offset;
  std::vector<double> weight;
};

Stencil stencil(const std::vector<Taps>& taps, const std::vector<SpatialAxis>& axes, GridSamplePadding padding) {
  Stencil s;
  const size_t k = taps.size();
  std::vector<int> pick(k, 0);
  for (;;) {
    int64_t offset = 0;
    double weight = 1.0;
    for (size_t d = 0; d < k; ++d) {
      const int64_t i = padded_index(taps[d].index[pick[d]], axes[d], padding);
      offset = (offset < 0 || i < 0) ? -1 : offset * axes[d].size + i;
      weight *= taps[d].weight[pick[d]];
    }
    s.offset.push_back(offset);
    s.weight.push_back(weight);
    size_t d = k;
    while (d > 0 && ++pick[d - 1] == taps[d - 1].count) pick[--d] = 0;
    if (d == 0) return s;
  }
}

// Integer outputs are computed in floating point and truncated at the end; saturating keeps
// the conversion defined for values outside T's range.
template <class T>
T to_output(double v) {
  if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    v = std::clamp(v, static_cast<double>(std::numeric_limits<T>::lowest()),
                   static_cast<double>(std::numeric_limits<T>::max()));
  }
  return static_cast<T>(v);
}

Status check_shapes(const Tensor& x, const Tensor& grid, int64_t opset) {
  if (opset < 20 && x.rank() != 4)
    return invalid_argument("input 'X' must be 4-D (N, C, H, W) before opset 20, got {}", shape_to_string(x.shape()));
  if (x.rank() < 3) return invalid_argument("input 'X' must have rank >= 3, got {}", shape_to_string(x.shape()));
  const int64_t k = x.rank() - 2;
  if (grid.rank() != x.rank() || grid.dim(0) != x.dim(0) || grid.dim(grid.rank() - 1) != k)
    return invalid_argument("input 'grid' must have shape [N={}, ...{} output dims..., {}], got {}", x.dim(0), k, k,
                            shape_to_string(grid.shape()));
  for (int64_t d = 2; d < x.rank(); ++d)
    if (x.dim(d) == 0) return invalid_argument("input 'X' {} has an empty spatial axis", shape_to_string(x.shape()));
  return Status::ok();
}

Status grid_sample(KernelContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return invalid_argument("inputs 'X' and 'grid' are required");
  const Tensor& x = ctx.input(0);
  const Tensor& grid = ctx.input(1);
  FULCRUM_RETURN_IF_ERROR(check_shapes(x, grid, ctx.opset()));
  if (grid.dtype() != DType::kFloat32 && grid.dtype() != DType::kFloat64)
    return unimplemented("input 'grid' of dtype {} is not supported", dtype_name(grid.dtype()));
  const auto& a = ctx.attrs<ops::GridSampleAttrs>();
  const size_t k = static_cast<size_t>(x.rank() - 2);
  std::vector<SpatialAxis> axes;
  for (size_t d = 0; d < k; ++d) axes.push_back(spatial_axis(x.dim(static_cast<int64_t>(d) + 2), a.align_corners));
  Shape out_shape = {x.dim(0), x.dim(1)};
  out_shape.insert(out_shape.end(), grid.shape().begin() + 1, grid.shape().end() - 1);
  const int64_t points = grid.numel() / std::max<int64_t>(x.dim(0), 1) / static_cast<int64_t>(k);
  const int64_t channels = x.dim(1);
  const int64_t plane = shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(0, x.dtype(), out_shape).template mutable_data<T>();
    std::vector<Taps> taps(k);
    for (int64_t n = 0; n < x.dim(0); ++n) {
      for (int64_t p = 0; p < points; ++p) {
        const int64_t g = (n * points + p) * static_cast<int64_t>(k);
        for (size_t d = 0; d < k; ++d)
          taps[d] = axis_taps(read_as_double(grid, g + static_cast<int64_t>(k - 1 - d)), axes[d], a);
        const Stencil s = stencil(taps, axes, a.padding);
        for (int64_t c = 0; c < channels; ++c) {
          const T* in = x.data<T>() + (n * channels + c) * plane;
          double sum = 0.0;
          for (size_t t = 0; t < s.offset.size(); ++t)
            if (s.offset[t] >= 0) sum += s.weight[t] * static_cast<double>(in[s.offset[t]]);
          out[(n * channels + c) * points + p] = to_output<T>(sum);
        }
      }
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(GridSample, grid_sample);

}  // namespace
}  // namespace fulcrum::backends::reference
