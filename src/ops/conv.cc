#include "ops/conv.h"

#include "ops/shape_utils.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

int64_t product(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{1}, std::multiplies<>());
}

bool all_at_least(const std::vector<int64_t>& v, int64_t lo) {
  return std::all_of(v.begin(), v.end(), [lo](int64_t x) { return x >= lo; });
}

// An attribute list must have one entry per spatial axis (or be empty: all `fallback`).
Result<std::vector<int64_t>> per_axis(const std::vector<int64_t>& v, size_t rank, int64_t fallback, const char* name) {
  if (v.empty()) return std::vector<int64_t>(rank, fallback);
  if (v.size() != rank)
    return invalid_argument("attribute '{}' has {} values but the input has {} spatial axes", name, v.size(), rank);
  return v;
}

// Strides, dilations and the kernel, checked against the input's spatial rank.
Status resolve_common(const WindowAttrs& a, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                      WindowGeometry& g) {
  const size_t rank = in.size();
  if (kernel.size() != rank)
    return invalid_argument("the kernel has {} spatial axes but the input has {}", kernel.size(), rank);
  if (!a.kernel_shape.empty() && a.kernel_shape != kernel)
    return invalid_argument("attribute 'kernel_shape' {} does not match the weights' spatial shape {}",
                            shape_to_string(a.kernel_shape), shape_to_string(kernel));
  g.in = in;
  g.kernel = kernel;
  FULCRUM_ASSIGN_OR_RETURN(g.strides, per_axis(a.strides, rank, 1, "strides"));
  FULCRUM_ASSIGN_OR_RETURN(g.dilations, per_axis(a.dilations, rank, 1, "dilations"));
  return Status::ok();
}

// Explicit pads, or zeros when the attribute is absent.
Status resolve_explicit_pads(const WindowAttrs& a, WindowGeometry& g) {
  const size_t rank = g.in.size();
  if (a.pads.empty() || a.auto_pad == AutoPad::kValid) {
    g.pad_begin.assign(rank, 0);
    g.pad_end.assign(rank, 0);
    return Status::ok();
  }
  if (a.pads.size() != 2 * rank)
    return invalid_argument("attribute 'pads' has {} values but the input has {} spatial axes (expected {})",
                            a.pads.size(), rank, 2 * rank);
  g.pad_begin.assign(a.pads.begin(), a.pads.begin() + static_cast<std::ptrdiff_t>(rank));
  g.pad_end.assign(a.pads.begin() + static_cast<std::ptrdiff_t>(rank), a.pads.end());
  return Status::ok();
}

void fill_conv(AttrReader& r, int64_t, ConvAttrs& a) {
  fill_window_attrs(r, a);
  a.group = r.i("group", 1);
  r.check(a.group >= 1, "attribute 'group' must be positive");
}

void fill_conv_transpose(AttrReader& r, int64_t opset, ConvTransposeAttrs& a) {
  fill_conv(r, opset, a);
  a.output_padding = r.ints("output_padding");
  a.output_shape = r.ints("output_shape");
  r.check(all_at_least(a.output_padding, 0), "attribute 'output_padding' must be non-negative");
  r.check(all_at_least(a.output_shape, 1), "attribute 'output_shape' must be positive");
}

const OpRegistrar kConv({"Conv", "", 1, kNoTraits, attr_parser(fill_conv)});
const OpRegistrar kConvTranspose({"ConvTranspose", "", 1, kNoTraits, attr_parser(fill_conv_transpose)});
const OpRegistrar kConvInteger({"ConvInteger", "", 10, kNoTraits, attr_parser(fill_conv)});

}  // namespace

int64_t WindowGeometry::in_size() const { return product(in); }
int64_t WindowGeometry::kernel_size() const { return product(kernel); }
int64_t WindowGeometry::out_size() const { return product(out); }

AutoPad parse_auto_pad(AttrReader& r) {
  const std::string s = r.s("auto_pad", "NOTSET");
  if (s == "NOTSET" || s.empty()) return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  r.check(false, "attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + s + "'");
  return AutoPad::kNotSet;
}

void fill_window_attrs(AttrReader& r, WindowAttrs& a) {
  a.auto_pad = parse_auto_pad(r);
  a.kernel_shape = r.ints("kernel_shape");
  a.strides = r.ints("strides");
  a.dilations = r.ints("dilations");
  a.pads = r.ints("pads");
  r.check(all_at_least(a.kernel_shape, 1), "attribute 'kernel_shape' must be positive");
  r.check(all_at_least(a.strides, 1), "attribute 'strides' must be positive");
  r.check(all_at_least(a.dilations, 1), "attribute 'dilations' must be positive");
  r.check(all_at_least(a.pads, 0), "attribute 'pads' must be non-negative");
}

Result<WindowGeometry> window_geometry(const WindowAttrs& a, const std::vector<int64_t>& in,
                                       const std::vector<int64_t>& kernel, bool ceil_mode) {
  WindowGeometry g;
  FULCRUM_RETURN_IF_ERROR(resolve_common(a, in, kernel, g));
  FULCRUM_RETURN_IF_ERROR(resolve_explicit_pads(a, g));
  const bool same = a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower;
  g.out.resize(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t window = (g.kernel[d] - 1) * g.dilations[d] + 1;
    if (same) {
      // SAME keeps ceil(in / stride) outputs and pads just enough for the last window.
      g.out[d] = (in[d] + g.strides[d] - 1) / g.strides[d];
      const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * g.strides[d] + window - in[d]);
      g.pad_begin[d] = a.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      g.pad_end[d] = total - g.pad_begin[d];
      continue;
    }
    const int64_t span = in[d] + g.pad_begin[d] + g.pad_end[d] - window;
    if (span < 0)
      return invalid_argument("spatial axis {} of the input (size {}, padded {}) is smaller than the kernel window {}",
                              d, in[d], in[d] + g.pad_begin[d] + g.pad_end[d], window);
    g.out[d] = (ceil_mode ? (span + g.strides[d] - 1) / g.strides[d] : span / g.strides[d]) + 1;
    // In ceil mode the last window must still start inside the input or the begin padding.
    if (ceil_mode && (g.out[d] - 1) * g.strides[d] >= in[d] + g.pad_begin[d]) --g.out[d];
  }
  return g;
}

Result<WindowGeometry> conv_transpose_geometry(const ConvTransposeAttrs& a, const std::vector<int64_t>& in,
                                               const std::vector<int64_t>& kernel) {
  const size_t rank = in.size();
  WindowGeometry g;
  FULCRUM_RETURN_IF_ERROR(resolve_common(a, in, kernel, g));
  FULCRUM_RETURN_IF_ERROR(resolve_explicit_pads(a, g));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> adj, per_axis(a.output_padding, rank, 0, "output_padding"));
  std::vector<int64_t> out_shape = a.output_shape;
  if (out_shape.size() == rank + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != rank)
    return invalid_argument("attribute 'output_shape' has {} values but the input has {} spatial axes",
                            a.output_shape.size(), rank);
  const bool same = a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower;
  if (out_shape.empty() && same)
    for (size_t d = 0; d < rank; ++d) out_shape.push_back(in[d] * g.strides[d]);

  std::vector<int64_t> y(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (adj[d] >= std::max(g.strides[d], g.dilations[d]))
      return invalid_argument("attribute 'output_padding' ({}) must be smaller than the stride or dilation on axis {}",
                              adj[d], d);
    const int64_t full = g.strides[d] * (in[d] - 1) + adj[d] + (g.kernel[d] - 1) * g.dilations[d] + 1;
    if (!out_shape.empty()) {
      // The spec splits the padding that output_shape implies; a larger output_shape than
      // the full result leaves the extra positions at the end (they receive only the bias).
      const int64_t total = full - out_shape[d];
      const int64_t half = floor_div(total, 2);
      g.pad_begin[d] = total < 0 ? 0 : (a.auto_pad == AutoPad::kSameUpper ? half : total - half);
      g.pad_end[d] = total - g.pad_begin[d];
      y[d] = out_shape[d];
    } else {
      y[d] = full - g.pad_begin[d] - g.pad_end[d];
    }
    if (y[d] < 1) return invalid_argument("ConvTranspose output axis {} would have size {} (pads too large)", d, y[d]);
  }
  // The adjoint conv reads Y-shaped data and produces X-shaped data.
  g.out = in;
  g.in = y;
  return g;
}

}  // namespace fulcrum::ops
