// Reference kernels for ops that only change how a tensor is viewed (Constant, Identity,
// Reshape, Flatten, Squeeze, Unsqueeze) or read its metadata (Shape, Size). Views share
// the input's storage: kernels never write their inputs, so sharing is safe.
#include "backends/reference/kernel.h"
#include "backends/reference/tensor_util.h"
#include "backends/reference/util.h"
#include "ops/tensor.h"
#include "ops/tensor_shape.h"

namespace fulcrum::backends::reference {
namespace {

using tensor_kernels::int_list_input;

Status constant(KernelContext& ctx) {
  ctx.set_output(0, ctx.attrs<ops::ConstantAttrs>().value);
  return Status::ok();
}

Status identity(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  ctx.set_output(0, ctx.input(0));
  return Status::ok();
}

Status reshape(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const auto& attrs = ctx.attrs<ops::ReshapeAttrs>();
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> spec;
  if (attrs.shape) {
    spec = *attrs.shape;
  } else {
    FULCRUM_ASSIGN_OR_RETURN(spec, int_list_input(ctx, 1, "'shape'"));
  }
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::reshape_output_shape(x.shape(), spec, attrs.allowzero));
  ctx.set_output(0, x.reshaped(std::move(shape)));
  return Status::ok();
}

Status flatten(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::flatten_output_shape(x.shape(), ctx.attrs<ops::FlattenAttrs>().axis));
  ctx.set_output(0, x.reshaped(std::move(shape)));
  return Status::ok();
}

// Squeeze/Unsqueeze axes: the attribute before opset 13, the optional input 1 from 13.
Result<std::optional<std::vector<int64_t>>> axes_of(const KernelContext& ctx) {
  if (ctx.opset() < 13) return ctx.attrs<ops::AxesAttrs>().axes;
  if (!ctx.has_input(1)) return std::optional<std::vector<int64_t>>();
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, int_list_input(ctx, 1, "'axes'"));
  return std::optional<std::vector<int64_t>>(std::move(axes));
}

Status squeeze(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(auto axes, axes_of(ctx));
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::squeeze_output_shape(x.shape(), axes));
  ctx.set_output(0, x.reshaped(std::move(shape)));
  return Status::ok();
}

Status unsqueeze(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(auto axes, axes_of(ctx));
  if (!axes) return invalid_argument("input 'axes' is required");
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::unsqueeze_output_shape(x.shape(), *axes));
  ctx.set_output(0, x.reshaped(std::move(shape)));
  return Status::ok();
}

Status shape(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const auto& attrs = ctx.attrs<ops::ShapeAttrs>();
  const Shape& in = ctx.input(0).shape();
  auto [start, end] = ops::shape_op_range(static_cast<int64_t>(in.size()), attrs.start, attrs.end);
  std::vector<int64_t> dims(in.begin() + start, in.begin() + end);
  ctx.set_output(0, Tensor::from_vector(DType::kInt64, {end - start}, dims));
  return Status::ok();
}

Status size(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  ctx.set_output(0, Tensor::from_vector<int64_t>(DType::kInt64, {}, {ctx.input(0).numel()}));
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Constant, constant);
FULCRUM_REFERENCE_KERNEL(Identity, identity);
FULCRUM_REFERENCE_KERNEL(Reshape, reshape);
FULCRUM_REFERENCE_KERNEL(Flatten, flatten);
FULCRUM_REFERENCE_KERNEL(Squeeze, squeeze);
FULCRUM_REFERENCE_KERNEL(Unsqueeze, unsqueeze);
FULCRUM_REFERENCE_KERNEL(Shape, shape);
FULCRUM_REFERENCE_KERNEL(Size, size);

}  // namespace
}  // namespace fulcrum::backends::reference
