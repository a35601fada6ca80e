// Shapes and oneDNN descs of the float convolutions' activations, NCHW or blocked
// (ops/layout.h), shared by the Conv and FusedConvDepthwise kernels.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "backends/cpu/dnnl_context.h"
#include "ops/fused.h"

namespace fulcrum::backends::cpu {

// The logical NCHW shape of a `channels`-channel tensor held as `s` in `layout` (a blocked
// tensor's last block may be padded, so the channel count comes from the weights).
inline Shape logical_shape(const Shape& s, ops::Layout layout, int64_t channels) {
  if (layout == ops::Layout::kNchw || s.size() != 5) return s;
  return {s[0], channels, s[2], s[3]};
}

// How a tensor of NCHW shape `logical` is held in `layout`.
inline Shape physical_shape(const Shape& logical, ops::Layout layout) {
  if (layout == ops::Layout::kNchw) return logical;
  const int64_t block = ops::layout_block(layout);
  return {logical[0], (logical[1] + block - 1) / block, logical[2], logical[3], block};
}

inline Tag conv_layout_tag(ops::Layout layout) {
  return layout == ops::Layout::kNchw8c ? Tag::nChw8c : layout == ops::Layout::kNchw16c ? Tag::nChw16c : Tag::nchw;
}

inline dnnl::memory::desc activation_desc(const Shape& logical, ops::Layout layout) {
  return plain_desc(logical, conv_layout_tag(layout));
}

}  // namespace fulcrum::backends::cpu
