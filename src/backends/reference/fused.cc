// Reference kernels for the fused ops: the anchor's own reference kernel, then each
// post-op's, in order, each on the previous result. They are the fused CPU kernels'
// oracle, so they add no arithmetic of their own: a fused node computes exactly what the
// nodes it replaced computed.
#include <cmath>

#include "backends/reference/elementwise_common.h"
#include "backends/reference/kernel.h"
#include "backends/reference/layout.h"
#include "core/error.h"
#include "ops/fused.h"

namespace fulcrum::backends::reference {
namespace {

// The anchor's inputs (its three slots), then the epilogue.
// A blocked source is unblocked first (to `src_channels`: a padded block's padding is
// dropped); with a blocked destination, the epilogue runs on the unblocked result
// (unblocking 5-D operands to its channels: a plain operand never has the rank of a blocked
// one) and the result is blocked last.
Status run_fused(KernelContext& ctx, const char* anchor, std::shared_ptr<const ops::OpAttrs> anchor_attrs,
                 int64_t anchor_opset, const ops::Epilogue& epilogue, ops::Layout src = ops::Layout::kNchw,
                 ops::Layout dst = ops::Layout::kNchw, int64_t src_channels = -1) {
  const ir::Node& node = ctx.node();
  std::vector<const Tensor*> anchor_inputs;
  for (size_t i = 0; i < ops::kFusedAnchorInputs && i < ctx.num_inputs(); ++i)
    anchor_inputs.push_back(ctx.has_input(i) ? &ctx.input(i) : nullptr);
  Tensor x_plain;
  if (src != ops::Layout::kNchw && !anchor_inputs.empty() && anchor_inputs[0] != nullptr) {
    FULCRUM_ASSIGN_OR_RETURN(x_plain, from_blocked(*anchor_inputs[0], src_channels));
    anchor_inputs[0] = &x_plain;
  }
  while (!anchor_inputs.empty() && anchor_inputs.back() == nullptr) anchor_inputs.pop_back();
  FULCRUM_ASSIGN_OR_RETURN(
      Tensor acc, run_stage(node, "", anchor, anchor_opset, std::move(anchor_attrs), std::move(anchor_inputs)));
  for (const ops::PostOp& op : epilogue.post_ops) {
    std::vector<const Tensor*> inputs = {&acc};
    if (op.input >= 0) {
      if (!ctx.has_input(static_cast<size_t>(op.input)))
        return invalid_argument("{}: post-op {} reads input {}, which is missing", node.label(), op.op_type, op.input);
      inputs.push_back(&ctx.input(static_cast<size_t>(op.input)));
    }
    Tensor operand_plain;
    if (dst != ops::Layout::kNchw && inputs.size() == 2 && inputs[1]->rank() == 5) {
      FULCRUM_ASSIGN_OR_RETURN(operand_plain, from_blocked(*inputs[1], acc.rank() == 4 ? acc.dim(1) : -1));
      inputs[1] = &operand_plain;
    }
    FULCRUM_ASSIGN_OR_RETURN(acc, run_stage(node, op.domain, op.op_type, op.opset, op.typed, std::move(inputs)));
  }
  if (dst != ops::Layout::kNchw) {
    FULCRUM_ASSIGN_OR_RETURN(acc, to_blocked(acc, ops::layout_block(dst)));
  }
  ctx.set_output(0, std::move(acc));
  return Status::ok();
}

Status fused_conv(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::FusedConvAttrs>();
  auto conv = std::make_shared<ops::ConvAttrs>(a);
  const int64_t channels = ctx.num_inputs() > 1 && ctx.has_input(1) && ctx.input(1).rank() == 4
                               ? ctx.input(1).dim(1) * a.group
                               : -1;  // the anchor reports a missing or malformed W
  return run_fused(ctx, "Conv", std::move(conv), 11, a.epilogue, a.src_layout, a.dst_layout, channels);
}

// The pointwise FusedConv, then the depthwise one on its output, each by fused_conv.
Status fused_conv_depthwise(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::FusedConvDepthwiseAttrs>();
  const size_t w = ops::kDepthwiseWeightsInput;
  auto input = [&](size_t i) { return i < ctx.num_inputs() && ctx.has_input(i) ? &ctx.input(i) : nullptr; };
  std::vector<const Tensor*> pointwise = {input(0), input(1), input(2)};
  while (!pointwise.empty() && pointwise.back() == nullptr) pointwise.pop_back();
  FULCRUM_ASSIGN_OR_RETURN(
      Tensor mid, run_stage(ctx.node(), ops::kFulcrumDomain, "FusedConv", 1, a.pointwise, std::move(pointwise)));
  std::vector<const Tensor*> depthwise = {&mid, input(w), input(w + 1)};
  while (depthwise.back() == nullptr) depthwise.pop_back();
  FULCRUM_ASSIGN_OR_RETURN(
      Tensor y, run_stage(ctx.node(), ops::kFulcrumDomain, "FusedConv", 1, a.depthwise, std::move(depthwise)));
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

Status fused_matmul(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::FusedMatMulAttrs>();
  if (!a.gemm) return run_fused(ctx, "MatMul", std::make_shared<ops::OpAttrs>(), 13, a.epilogue);
  return run_fused(ctx, "Gemm", std::make_shared<ops::GemmAttrs>(a), 13, a.epilogue);
}

Status silu(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return v / (1.0 + std::exp(-v)); });
}

FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", FusedConv, fused_conv);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", FusedConvDepthwise, fused_conv_depthwise);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", FusedMatMul, fused_matmul);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", Silu, silu);

}  // namespace

Result<Tensor> run_stage(const ir::Node& node, const std::string& domain, const std::string& op_type, int64_t opset,
                         std::shared_ptr<const ops::OpAttrs> attrs, std::vector<const Tensor*> inputs) {
  KernelFn fn = find_kernel(domain, op_type);
  if (fn == nullptr) return unimplemented("{}: no reference kernel for {}", node.label(), op_type);
  ir::Node stage;
  stage.name = node.name;
  stage.op_type = op_type;
  stage.domain = domain;
  stage.opset = opset;
  stage.schema = ops::find_schema(domain, op_type);
  stage.typed_attrs = std::move(attrs);
  stage.outputs = {node.outputs[0]};
  std::vector<Tensor> outputs(1);
  KernelContext ctx(stage, std::move(inputs), outputs);
  FULCRUM_RETURN_IF_ERROR(fn(ctx).with_context(fmt::format("{} in {}", op_type, node.label())));
  return std::move(outputs[0]);
}

}  // namespace fulcrum::backends::reference
