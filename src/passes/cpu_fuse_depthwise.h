// Fuses a pointwise (1x1) convolution and the depthwise 3x3 convolution that alone reads
// its output into one fulcrum.FusedConvDepthwise (ops/fused.h), which the CPU backend runs
// as one oneDNN convolution with a depthwise post-op: the 1x1's output, MobileNetV2's 6x
// expanded tensor, is consumed row by row while it is still in cache instead of being
// written out and read back.
//
// Only where that pays: the expanded tensor must be at least 1 MiB per image (measured on
// MobileNetV2 with 2 threads: batch 8 gains 40% on the 112x112x96 pair and 15% on the
// 56x56x144 ones, the 28x28x192 pairs lose 9%), both convs float32 and FP32 (FP16 numerics
// would round the tensor the fusion never writes), and laid out blocked by
// cpu_blocked_layout (which this pass runs after). The depthwise conv must be oneDNN's
// kind: 3x3, stride 1 or 2, padding 1, no dilation, unary post-ops only.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class CpuFuseDepthwise : public Pass {
 public:
  std::string_view name() const override { return "cpu_fuse_depthwise"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
