// Reference kernel for RoiAlign. Each output bin averages (or takes the max of) a regular
// grid of bilinear samples inside its part of the roi; the arithmetic and the edge rules
// follow onnxruntime's kernel, which produced the ONNX tests. In max mode that kernel takes
// the max over the four weighted corner terms of each sample, not over interpolated values,
// and so does this one.
#include <algorithm>
#include <cmath>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/detection.h"

namespace fulcrum::backends::reference {
namespace {

// One bilinear sample: four pixel offsets within a channel plane and their weights.
template <class T>
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  T w[4] = {0, 0, 0, 0};
};

template <class T>
Sample<T> bilinear_sample(T y, T x, int64_t height, int64_t width) {
  Sample<T> s;
  // A sample more than one pixel outside the map contributes nothing.
  if (y < T(-1) || y > T(height) || x < T(-1) || x > T(width)) return s;
  y = std::max(y, T(0));
  x = std::max(x, T(0));
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
  int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = T(y_low);
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = T(x_low);
  }
  const T ly = y - T(y_low), lx = x - T(x_low), hy = T(1) - ly, hx = T(1) - lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

// The sampling grid of one roi: for every output bin, its grid_h * grid_w samples.
template <class T>
struct RoiGrid {
  int64_t grid_h = 0, grid_w = 0;
  std::vector<Sample<T>> samples;  // [out_h][out_w][grid_h][grid_w]
};

template <class T>
RoiGrid<T> roi_grid(const T* roi, const ops::RoiAlignAttrs& a, int64_t height, int64_t width) {
  const T scale = static_cast<T>(a.spatial_scale);
  const T offset = a.half_pixel ? T(0.5) : T(0);
  const T start_w = roi[0] * scale - offset, start_h = roi[1] * scale - offset;
  T roi_w = roi[2] * scale - offset - start_w, roi_h = roi[3] * scale - offset - start_h;
  if (!a.half_pixel) {  // output_half_pixel forces a malformed roi to 1x1
    roi_w = std::max(roi_w, T(1));
    roi_h = std::max(roi_h, T(1));
  }
  const T bin_h = roi_h / T(a.output_height), bin_w = roi_w / T(a.output_width);
  RoiGrid<T> g;
  g.grid_h = a.sampling_ratio > 0 ? a.sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / T(a.output_height)));
  g.grid_w = a.sampling_ratio > 0 ? a.sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / T(a.output_width)));
  g.grid_h = std::max<int64_t>(g.grid_h, 0);
  g.grid_w = std::max<int64_t>(g.grid_w, 0);
  for (int64_t ph = 0; ph < a.output_height; ++ph)
    for (int64_t pw = 0; pw < a.output_width; ++pw)
      for (int64_t iy = 0; iy < g.grid_h; ++iy) {
        const T y = start_h + T(ph) * bin_h + (T(iy) + T(0.5)) * bin_h / T(g.grid_h);
        for (int64_t ix = 0; ix < g.grid_w; ++ix) {
          const T x = start_w + T(pw) * bin_w + (T(ix) + T(0.5)) * bin_w / T(g.grid_w);
          g.samples.push_back(bilinear_sample(y, x, height, width));
        }
      }
  return g;
}

// One output value from the samples of one bin over one channel plane.
template <class T>
T pool_bin(const Sample<T>* samples, int64_t count, const T* plane, ops::RoiPoolMode mode) {
  if (mode == ops::RoiPoolMode::kAvg) {
    T sum = 0;
    for (int64_t i = 0; i < count; ++i)
      for (int k = 0; k < 4; ++k) sum += samples[i].w[k] * plane[samples[i].pos[k]];
    return sum / T(std::max<int64_t>(count, 1));
  }
  T best = 0;
  for (int64_t i = 0; i < count; ++i) {
    T v = samples[i].w[0] * plane[samples[i].pos[0]];
    for (int k = 1; k < 4; ++k) v = std::max(v, samples[i].w[k] * plane[samples[i].pos[k]]);
    best = i == 0 ? v : std::max(best, v);
  }
  return best;
}

Status check_inputs(const Tensor& x, const Tensor& rois, const Tensor& batch_indices) {
  if (x.rank() != 4) return invalid_argument("input 'X' must be 4-D [N, C, H, W], got {}", shape_to_string(x.shape()));
  if (x.dim(2) == 0 || x.dim(3) == 0)
    return invalid_argument("input 'X' {} has an empty feature map", shape_to_string(x.shape()));
  if (rois.rank() != 2 || rois.dim(1) != 4)
    return invalid_argument("input 'rois' must have shape [num_rois, 4], got {}", shape_to_string(rois.shape()));
  if (batch_indices.rank() != 1 || batch_indices.dim(0) != rois.dim(0))
    return invalid_argument("input 'batch_indices' must have shape [num_rois={}], got {}", rois.dim(0),
                            shape_to_string(batch_indices.shape()));
  if (rois.dtype() != x.dtype())
    return invalid_argument("input 'rois' ({}) must have the dtype of 'X' ({})", dtype_name(rois.dtype()),
                            dtype_name(x.dtype()));
  if (batch_indices.dtype() != DType::kInt64 && batch_indices.dtype() != DType::kInt32)
    return invalid_argument("input 'batch_indices' must be int64, got {}", dtype_name(batch_indices.dtype()));
  for (int64_t r = 0; r < batch_indices.numel(); ++r) {
    const int64_t b = read_as_int64(batch_indices, r);
    if (b < 0 || b >= x.dim(0))
      return invalid_argument("input 'batch_indices'[{}] = {} is out of range for a batch of {}", r, b, x.dim(0));
  }
  return Status::ok();
}

Status roi_align(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i)
    if (!ctx.has_input(i)) return invalid_argument("inputs 'X', 'rois' and 'batch_indices' are required");
  const Tensor& x = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Tensor& batch_indices = ctx.input(2);
  FULCRUM_RETURN_IF_ERROR(check_inputs(x, rois, batch_indices));
  const auto& a = ctx.attrs<ops::RoiAlignAttrs>();
  const int64_t num_rois = rois.dim(0), channels = x.dim(1), height = x.dim(2), width = x.dim(3);
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(0, x.dtype(), {num_rois, channels, a.output_height, a.output_width})
                 .template mutable_data<T>();
    const int64_t bins = a.output_height * a.output_width;
    for (int64_t r = 0; r < num_rois; ++r) {
      const RoiGrid<T> g = roi_grid(rois.data<T>() + r * 4, a, height, width);
      const int64_t per_bin = g.grid_h * g.grid_w;
      const int64_t batch = read_as_int64(batch_indices, r);
      for (int64_t c = 0; c < channels; ++c) {
        const T* plane = x.data<T>() + (batch * channels + c) * height * width;
        for (int64_t bin = 0; bin < bins; ++bin)
          out[(r * channels + c) * bins + bin] = pool_bin(g.samples.data() + bin * per_bin, per_bin, plane, a.mode);
      }
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(RoiAlign, roi_align);

}  // namespace
}  // namespace fulcrum::backends::reference
