// Keeps activations in oneDNN's nChw8c (AVX2) or nChw16c (AVX-512) layout between
// convolutions on the CPU backend, in the manner of ONNX Runtime's NchwcTransformer, so no
// conv reorders its input or output. A blocked tensor is a plain 5-D tensor
// [N, ceil(C/b), H, W, b] in the IR (ops/layout.h); only tensors with fixed C, H, W are
// blocked. b is the preferred block where it divides C; where it does not, and only
// convolutions read the tensor, C is padded up to whole blocks if that adds at most half
// (24 channels run as 32 in the AVX-512 kernels: no AVX2 kernel and no reorders into and
// out of MobileNetV2's 24-channel stage; oneDNN zeroes the padding it writes); else b = 8
// where 8 divides C; else the tensor stays NCHW.
//   - A Conv / FusedConv (constant weights; group 1 or depthwise) writes its output blocked
//     and reads a blocked input as is; it becomes a FusedConv with src_layout / dst_layout.
//     A first conv (C = 3) reads NCHW and writes blocked. A full-shape residual operand of a
//     blocked conv is blocked too.
//   - MaxPool / AveragePool / GlobalAveragePool of a blocked tensor become
//     fulcrum.BlockedPool (the global pool writes plain [N, C, 1, 1]).
//   - Same-shape element-wise ops whose tensor inputs are all blocked pass the layout through
//     (they are layout-agnostic).
//   - A Concat along the channels whose inputs' channels fill whole blocks, one of them
//     blocked already, stays a Concat on the 5-D tensors' block axis (plain inputs are
//     reordered in): YOLO's C3 and PAN concats no longer reorder out of and back into the
//     blocked layout.
//   - Every other reader of a blocked tensor reads it through one fulcrum.ReorderFromBlocked;
//     a plain residual operand of a blocked conv goes through fulcrum.ReorderToBlocked.
// Runs once (a graph that already has blocked tensors is left alone), after the fusions.
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class CpuBlockedLayout : public Pass {
 public:
  // `block`: channels per block, 8 or 16 (the CPU's vector width in floats).
  explicit CpuBlockedLayout(int64_t block = 8) : block_(block) {}
  std::string_view name() const override { return "cpu_blocked_layout"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;

 private:
  int64_t block_;
};

}  // namespace fulcrum::passes
