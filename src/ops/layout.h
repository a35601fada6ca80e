// Internal (domain "fulcrum") ops of the CPU backend's blocked activation layout. A blocked
// tensor is oneDNN's nChw8c or nChw16c held as a plain 5-D tensor [N, ceil(C/b), H, W, b]
// (b = 8 or 16, the tensor's last dim): element (n, c, h, w) of the NCHW tensor is at
// [n, c / b, h, w, c % b]. The cpu_blocked_layout pass keeps activations blocked between
// convolutions and puts these ops at the edges:
//   ReorderToBlocked    [N, C, H, W] -> [N, ceil(C/b), H, W, b]   (attribute `block`; a
//                       last partial block is padded with zeros)
//   ReorderFromBlocked  [N, C/b, H, W, b] -> [N, C, H, W]   (every block whole: only a
//                       convolution, which knows C from its weights, reads a padded tensor)
//   BlockedPool         a MaxPool / AveragePool on blocked tensors (blocked output), or a
//                       GlobalAveragePool of one (plain [N, C, 1, 1] output). Attributes:
//                       `pool` (the ONNX op), `pool_opset`, and the pool's own attributes.
//   NhwcPool            the same on NHWC tensors ([N, H, W, C]) of any dtype: the INT8 lowering
//                       runs a MaxPool between INT8 convolutions on their int8/uint8 NHWC
//                       tensors (the max of quantized values is the quantized max).
#pragma once

#include <memory>
#include <string>

#include "ops/registry.h"

namespace fulcrum::ops {

struct ReorderToBlockedAttrs : OpAttrs {
  int64_t block = 8;
};

struct BlockedPoolAttrs : OpAttrs {
  std::string pool;  // "MaxPool", "AveragePool" or "GlobalAveragePool"
  int64_t pool_opset = 1;
  Attributes pool_raw;                        // the pool's own attributes
  std::shared_ptr<const OpAttrs> pool_attrs;  // parsed by the pool's schema
};

}  // namespace fulcrum::ops
