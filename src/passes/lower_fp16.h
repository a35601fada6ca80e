// Gives each FP16 layer (Node::precision == kFp16, set by the precision planner) FP16
// weights: its float32 constant data inputs (weights, biases, constant operands; not
// parameters such as a Resize's scales, see fp16_safety.h) are rounded to the nearest FP16
// value, round to nearest even. They stay float32 tensors, because the CPU computes in
// FP32 (oneDNN has no FP16 x86 kernels, and most x86 CPUs no FP16 arithmetic), but hold
// exactly what an FP16 engine holds, and the engine file stores them in FP16 (half the bytes).
//
// Copy-on-write: a constant is never changed in place (its bytes may be the model file's
// mapping, or shared with a clone). One that an FP32 layer also reads keeps its values for
// that layer, and the FP16 layers get a rounded copy "<name>_fp16".
#pragma once

#include "passes/pass.h"

namespace fulcrum::passes {

class LowerFp16 : public Pass {
 public:
  std::string_view name() const override { return "lower_fp16"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;
};

}  // namespace fulcrum::passes
