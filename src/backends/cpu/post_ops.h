// The epilogue of a fused Conv / MatMul (ops/fused.h) as oneDNN post-ops: activations as
// eltwise post-ops, a residual or bias Add as a binary post-op reading one of the node's
// inputs. Post-ops oneDNN has no counterpart for make the factory decline the node, so the
// reference runs it.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/dnnl_context.h"
#include "fulcrum/tensor.h"
#include "ops/fused.h"

namespace fulcrum::backends::cpu {

// One Add post-op's operand: the node input it reads, and its desc (right-aligned to the
// destination's rank, so size-1 axes broadcast).
struct BinaryOperand {
  int post_op = 0;  // index in the oneDNN post-op list
  size_t input = 0;
  dnnl::memory::desc desc;
};

struct EpiloguePlan {
  dnnl::post_ops ops;
  std::vector<BinaryOperand> operands;
};

// True when every post-op of `e` maps onto oneDNN (the operands' shapes are checked when
// the plan is made).
bool supports_epilogue(const ops::Epilogue& e, const ir::Node& node);

// Appends the eltwise post-ops computing the unary post-op `op` (an activation, Clip...) to
// `ops`; false, appending nothing, when oneDNN has no counterpart.
bool append_unary_post_op(const ops::PostOp& op, dnnl::post_ops& ops);

// The post-ops for `e` on a destination of shape `dst`, the binary operands having the
// shapes `operand_shapes` (one per binary post-op, in order). `operand_tag` lays out an
// operand of the destination's full shape (the destination's own layout for a residual).
Result<EpiloguePlan> plan_epilogue(const ops::Epilogue& e, const Shape& dst, const std::vector<Shape>& operand_shapes,
                                   dnnl::memory::format_tag full_operand_tag);

// The input shapes of `e`'s binary post-ops (the cache key part a plan depends on).
std::vector<Shape> operand_shapes(const ops::Epilogue& e, const KernelContext& ctx);

// Adds the operands' memories to a primitive's execute arguments.
void add_operand_args(const EpiloguePlan& plan, const KernelContext& ctx, ExecArgs& args);

}  // namespace fulcrum::backends::cpu
