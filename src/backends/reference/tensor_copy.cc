// Reference kernels for ops that copy elements to new places without computing anything:
// Transpose, Concat, Split, Slice, Expand, Tile, DepthToSpace, SpaceToDepth. Each describes
// its output as a strided view of its input and lets strided_copy move contiguous runs, so
// they work on every dtype and stay fast on large activations.
#include <cstring>

#include "backends/reference/kernel.h"
#include "backends/reference/tensor_util.h"
#include "backends/reference/util.h"
#include "ops/tensor.h"
#include "ops/tensor_shape.h"

namespace fulcrum::backends::reference {
namespace {

using tensor_kernels::int_list_input;
using tensor_kernels::permute;
using tensor_kernels::strided_copy;

Status transpose(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(auto perm, ops::transpose_perm(x.rank(), ctx.attrs<ops::TransposeAttrs>().perm));
  ctx.set_output(0, permute(x, x.shape(), perm));
  return Status::ok();
}

// Checks that every input has input 0's dtype and rank, and agrees with it off `axis`.
Result<Shape> concat_shape(const KernelContext& ctx, int64_t axis) {
  const Tensor& first = ctx.input(0);
  Shape out = first.shape();
  out[static_cast<size_t>(axis)] = 0;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    if (!ctx.has_input(k)) return invalid_argument("input {} is missing", k);
    const Tensor& t = ctx.input(k);
    bool same = t.dtype() == first.dtype() && t.rank() == first.rank();
    for (int64_t d = 0; same && d < t.rank(); ++d) same = d == axis || t.dim(d) == first.dim(d);
    if (!same)
      return invalid_argument("input {} ({} {}) does not match input 0 ({} {}) off axis {}", k, dtype_name(t.dtype()),
                              shape_to_string(t.shape()), dtype_name(first.dtype()), shape_to_string(first.shape()),
                              axis);
    out[static_cast<size_t>(axis)] += t.dim(axis);
  }
  return out;
}

Status concat(KernelContext& ctx) {
  if (ctx.num_inputs() == 0 || !ctx.has_input(0)) return invalid_argument("Concat needs at least one input");
  const int64_t rank = ctx.input(0).rank();
  const int64_t attr_axis = ctx.attrs<ops::ConcatAttrs>().axis;
  if (rank == 0) return invalid_argument("cannot concatenate scalars");
  if (attr_axis < -rank || attr_axis >= rank)
    return invalid_argument("attribute 'axis' {} is out of range for rank {}", attr_axis, rank);
  const int64_t axis = attr_axis < 0 ? attr_axis + rank : attr_axis;
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, concat_shape(ctx, axis));
  Tensor& y = ctx.allocate_output(0, ctx.input(0).dtype(), shape);
  const size_t elem = dtype_size(y.dtype());
  const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + axis));
  const int64_t inner = shape_numel(Shape(shape.begin() + axis + 1, shape.end()));
  const int64_t out_block = shape[static_cast<size_t>(axis)] * inner;
  char* out = static_cast<char*>(y.mutable_raw());
  int64_t at = 0;  // where this input's block starts within each output block
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    const Tensor& t = ctx.input(k);
    const int64_t block = t.dim(axis) * inner;
    const char* in = static_cast<const char*>(t.raw());
    for (int64_t o = 0; o < outer && block > 0; ++o)
      std::memcpy(out + (o * out_block + at) * elem, in + o * block * elem, static_cast<size_t>(block) * elem);
    at += block;
  }
  return Status::ok();
}

// Split sizes: input 1 from opset 13 (and in Split-1), else the attribute.
Result<std::optional<std::vector<int64_t>>> split_of(const KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::SplitAttrs>();
  if ((ctx.opset() >= 13 || ctx.opset() == 1) && ctx.has_input(1)) {
    FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> split, int_list_input(ctx, 1, "'split'"));
    // Some exporters write an empty 'split' to mean "equal parts".
    if (split.empty()) return attrs.split;
    return std::optional<std::vector<int64_t>>(std::move(split));
  }
  return attrs.split;
}

Status split(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const auto& attrs = ctx.attrs<ops::SplitAttrs>();
  const Tensor& x = ctx.input(0);
  if (attrs.axis < -x.rank() || attrs.axis >= x.rank())
    return invalid_argument("attribute 'axis' {} is out of range for rank {}", attrs.axis, x.rank());
  const int64_t axis = attrs.axis < 0 ? attrs.axis + x.rank() : attrs.axis;
  const auto count = static_cast<int64_t>(ctx.num_outputs());
  if (attrs.num_outputs > 0 && attrs.num_outputs != count)
    return invalid_argument("attribute 'num_outputs' is {} but the node has {} outputs", attrs.num_outputs, count);
  FULCRUM_ASSIGN_OR_RETURN(auto given, split_of(ctx));
  FULCRUM_ASSIGN_OR_RETURN(auto sizes, ops::split_sizes(x.dim(axis), given, count));
  const std::vector<int64_t> strides = ops::strides_of(x.shape());
  const size_t elem = dtype_size(x.dtype());
  int64_t pos = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape shape = x.shape();
    shape[static_cast<size_t>(axis)] = sizes[i];
    Tensor& y = ctx.allocate_output(i, x.dtype(), shape);
    const char* src = static_cast<const char*>(x.raw()) + pos * strides[static_cast<size_t>(axis)] * elem;
    strided_copy(src, strides, shape, y.mutable_raw(), elem);
    pos += sizes[i];
  }
  return Status::ok();
}

Status slice(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    const auto& attrs = ctx.attrs<ops::SliceAttrs>();
    starts = attrs.starts;
    ends = attrs.ends;
    if (attrs.axes) axes = *attrs.axes;
  } else {
    FULCRUM_ASSIGN_OR_RETURN(starts, int_list_input(ctx, 1, "'starts'"));
    FULCRUM_ASSIGN_OR_RETURN(ends, int_list_input(ctx, 2, "'ends'"));
    if (ctx.has_input(3)) {
      FULCRUM_ASSIGN_OR_RETURN(axes, int_list_input(ctx, 3, "'axes'"));
    }
    if (ctx.has_input(4)) {
      FULCRUM_ASSIGN_OR_RETURN(steps, int_list_input(ctx, 4, "'steps'"));
    }
  }
  FULCRUM_ASSIGN_OR_RETURN(auto ranges, ops::slice_ranges(x.shape(), starts, ends, axes, steps));
  const std::vector<int64_t> in_strides = ops::strides_of(x.shape());
  Shape shape(ranges.size());
  std::vector<int64_t> strides(ranges.size());
  int64_t offset = 0;
  for (size_t d = 0; d < ranges.size(); ++d) {
    shape[d] = ranges[d].count;
    strides[d] = in_strides[d] * ranges[d].step;
    offset += ranges[d].start * in_strides[d];
  }
  Tensor& y = ctx.allocate_output(0, x.dtype(), shape);
  const size_t elem = dtype_size(x.dtype());
  strided_copy(static_cast<const char*>(x.raw()) + offset * static_cast<int64_t>(elem), strides, shape, y.mutable_raw(),
               elem);
  return Status::ok();
}

Status expand(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> target, int_list_input(ctx, 1, "'shape'"));
  for (int64_t d : target)
    if (d < 0) return invalid_argument("input 'shape' {} has a negative dimension", shape_to_string(target));
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::broadcast_shapes({x.shape(), target}));
  Tensor& y = ctx.allocate_output(0, x.dtype(), shape);
  strided_copy(x.raw(), ops::broadcast_strides(x.shape(), shape), shape, y.mutable_raw(), dtype_size(x.dtype()));
  return Status::ok();
}

// The output of Tile, viewed as [r0, d0, r1, d1, ...], reads the input with stride 0 on
// every repeat axis.
Status tile(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> repeats, int_list_input(ctx, 1, "'repeats'"));
  if (static_cast<int64_t>(repeats.size()) != x.rank())
    return invalid_argument("input 'repeats' has {} entries for an input of rank {}", repeats.size(), x.rank());
  const std::vector<int64_t> in_strides = ops::strides_of(x.shape());
  Shape shape, view;
  std::vector<int64_t> strides;
  for (size_t d = 0; d < repeats.size(); ++d) {
    if (repeats[d] < 0) return invalid_argument("input 'repeats' {} has a negative entry", shape_to_string(repeats));
    shape.push_back(repeats[d] * x.shape()[d]);
    view.insert(view.end(), {repeats[d], x.shape()[d]});
    strides.insert(strides.end(), {0, in_strides[d]});
  }
  Tensor& y = ctx.allocate_output(0, x.dtype(), shape);
  strided_copy(x.raw(), strides, view, y.mutable_raw(), dtype_size(x.dtype()));
  return Status::ok();
}

// DepthToSpace/SpaceToDepth input: 4-D [N, C, H, W].
Status check_4d(const Tensor& x) {
  if (x.rank() != 4)
    return invalid_argument("input must be 4-D [N, C, H, W], got shape {}", shape_to_string(x.shape()));
  return Status::ok();
}

Status depth_to_space(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const auto& attrs = ctx.attrs<ops::DepthToSpaceAttrs>();
  const Tensor& x = ctx.input(0);
  FULCRUM_RETURN_IF_ERROR(check_4d(x));
  const int64_t b = attrs.blocksize, n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (c % (b * b) != 0) return invalid_argument("channels ({}) must be divisible by blocksize^2 ({})", c, b * b);
  const int64_t oc = c / (b * b);
  // DCR reads the depth as [b, b, C'], CRD as [C', b, b].
  Tensor y = attrs.crd ? permute(x, {n, oc, b, b, h, w}, {0, 1, 4, 2, 5, 3})
                       : permute(x, {n, b, b, oc, h, w}, {0, 3, 4, 1, 5, 2});
  ctx.set_output(0, y.reshaped({n, oc, h * b, w * b}));
  return Status::ok();
}

Status space_to_depth(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const int64_t b = ctx.attrs<ops::SpaceToDepthAttrs>().blocksize;
  const Tensor& x = ctx.input(0);
  FULCRUM_RETURN_IF_ERROR(check_4d(x));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (h % b != 0 || w % b != 0)
    return invalid_argument("height ({}) and width ({}) must be divisible by blocksize ({})", h, w, b);
  Tensor y = permute(x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4});
  ctx.set_output(0, y.reshaped({n, c * b * b, h / b, w / b}));
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Transpose, transpose);
FULCRUM_REFERENCE_KERNEL(Concat, concat);
FULCRUM_REFERENCE_KERNEL(Split, split);
FULCRUM_REFERENCE_KERNEL(Slice, slice);
FULCRUM_REFERENCE_KERNEL(Expand, expand);
FULCRUM_REFERENCE_KERNEL(Tile, tile);
FULCRUM_REFERENCE_KERNEL(DepthToSpace, depth_to_space);
FULCRUM_REFERENCE_KERNEL(SpaceToDepth, space_to_depth);

}  // namespace
}  // namespace fulcrum::backends::reference
