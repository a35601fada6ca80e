// Shared by the reference kernels of the internal fused and layout ops (ops/fused.h,
// ops/layout.h): the blocked-layout conversions, and running another op's reference kernel
// as one stage of a node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/reference/kernel.h"

namespace fulcrum::backends::reference {

// [N, C, H, W] -> [N, ceil(C/b), H, W, b], a last partial block padded with zeros.
Result<Tensor> to_blocked(const Tensor& x, int64_t block);
// [N, B, H, W, b] -> [N, C, H, W]: the first `channels` (B * b when negative; the last
// block's padding is dropped).
Result<Tensor> from_blocked(const Tensor& x, int64_t channels = -1);

// Runs the reference kernel of `domain`.`op_type` on `inputs` as if it were the node `node`
// (whose name errors then carry), and returns its single output.
Result<Tensor> run_stage(const ir::Node& node, const std::string& domain, const std::string& op_type, int64_t opset,
                         std::shared_ptr<const ops::OpAttrs> attrs, std::vector<const Tensor*> inputs);

}  // namespace fulcrum::backends::reference
