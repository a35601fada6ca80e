// Which layers have an INT8 kernel, shared by the precision plan (which may choose INT8 only
// where this says yes) and the INT8 lowering (which then rewrites exactly those layers).
#pragma once

#include <string>

#include "ir/graph.h"

namespace fulcrum::passes {

struct Int8Check {
  bool ok = false;
  std::string reason;  // why not, or what the INT8 layer will be ("QConv")
};

// Whether the node's op type has an INT8 kernel at all (Conv, Gemm, MatMul and their fused
// forms): INT8 requests bind only these layers.
bool int8_op_type(const ir::Node& node);

// Conv / fulcrum.FusedConv (2-D, constant float weights) and MatMul / Gemm /
// fulcrum.FusedMatMul with a constant 2-D float B, whose float activation input has a scale
// in graph.tensor_scales.
Int8Check int8_support(const ir::Graph& graph, const ir::Node& node);

// The activation input of an INT8-capable layer (X of a conv, A of a matmul).
inline constexpr size_t kInt8ActivationInput = 0;

}  // namespace fulcrum::passes
