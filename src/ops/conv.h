// Convolution ops: Conv, ConvTranspose, ConvInteger. Also the sliding-window geometry
// (kernel, strides, dilations, pads, auto_pad -> output size) that pooling shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// The window attributes common to Conv, ConvTranspose, ConvInteger and the pools. Empty
// vectors mean "default for the input's rank" (kernel_shape: taken from the weights).
struct WindowAttrs : OpAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
};

struct ConvAttrs : WindowAttrs {
  int64_t group = 1;
};

struct ConvTransposeAttrs : ConvAttrs {
  std::vector<int64_t> output_padding;
  std::vector<int64_t> output_shape;  // spatial dims only (a full N,C,... shape is trimmed)
};

// A sliding window over the spatial axes, fully resolved: every vector has one entry per
// spatial axis. Output position o covers input positions o*stride - pad_begin + k*dilation.
struct WindowGeometry {
  std::vector<int64_t> in;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;
  std::vector<int64_t> pad_end;
  std::vector<int64_t> out;

  size_t rank() const { return in.size(); }
  int64_t in_size() const;      // product of in
  int64_t kernel_size() const;  // product of kernel
  int64_t out_size() const;     // product of out
};

// Parses "NOTSET" / "SAME_UPPER" / "SAME_LOWER" / "VALID" ("" counts as NOTSET).
AutoPad parse_auto_pad(AttrReader& r);

// Reads kernel_shape, strides, dilations, pads and auto_pad into `a`.
void fill_window_attrs(AttrReader& r, WindowAttrs& a);

// Resolves the window of a Conv or pool over `in` (spatial dims) with `kernel`. ceil_mode
// rounds the output size up (pools only). Errors name the attribute that does not fit.
Result<WindowGeometry> window_geometry(const WindowAttrs& a, const std::vector<int64_t>& in,
                                       const std::vector<int64_t>& kernel, bool ceil_mode = false);

// Resolves ConvTranspose: `in` is the spatial shape of X, `kernel` that of W. The returned
// geometry is that of the forward conv it is the adjoint of: .in is the output (Y) spatial
// shape and .out is X's, so a conv with this geometry maps Y-shaped data to X-shaped data.
Result<WindowGeometry> conv_transpose_geometry(const ConvTransposeAttrs& a, const std::vector<int64_t>& in,
                                               const std::vector<int64_t>& kernel);

}  // namespace fulcrum::ops
