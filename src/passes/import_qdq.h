// Turns a Q/DQ model's explicit quantization (QuantizeLinear/DequantizeLinear, from QAT, ONNX
// Runtime's quantizer or `fulcrum export-qdq`) into the form calibration produces, so the INT8
// build honours the model's scales. Runs first in the build, before constant folding (which
// would otherwise fold the weights' DequantizeLinear and lose their scales):
//
//  - x -> QuantizeLinear(s, zp) -> DequantizeLinear(s, zp) on an activation: both go, readers
//    read x, and graph.tensor_scales[x] = s. Symmetric only: int8 with zero point 0, or uint8
//    with zero point 128 (the same int8 grid shifted; the scale is kept). Any other zero point,
//    a per-axis or non-constant scale, a DequantizeLinear whose scale differs from its
//    QuantizeLinear's, or one tensor quantized with two different scales is an error naming
//    the node(s).
//  - DequantizeLinear(w_q, s, zp[, axis]) of an int8 constant (zero point 0; uint8 with 128) is
//    replaced by the float32 constant w_q * s under the DequantizeLinear's output name, and
//    graph.weight_scales[that name] = {s, axis}: the INT8 lowering re-quantizes it exactly.
//    An int32 constant (a bias) is folded to float the same way, with no scale recorded.
//  - Conv, Gemm and MatMul nodes that read both a dequantized activation and a dequantized
//    weight get precision kInt8, reason "Q/DQ in the model".
//  - A QuantizeLinear no DequantizeLinear reads, a DequantizeLinear of a non-constant tensor
//    that no QuantizeLinear made, and float16 or blocked quantization stay in place (the
//    reference kernels run them); each is reported once (warning and ctx counter).
//
// A graph without QuantizeLinear/DequantizeLinear is left untouched (run() returns false).
// Not in any pipeline list of pass.cc: the build calls it (make_import_qdq_pass()) before
// default_fp32_passes() when the model holds Q/DQ nodes.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "passes/pass.h"

namespace fulcrum::passes {

class ImportQdq : public Pass {
 public:
  std::string_view name() const override { return "import_qdq"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;

 private:
  std::set<std::string> reported_;  // nodes left in place, warned about once
};

std::unique_ptr<Pass> make_import_qdq_pass();

// True when the graph holds a QuantizeLinear or DequantizeLinear node.
bool has_qdq_nodes(const ir::Graph& graph);

}  // namespace fulcrum::passes
