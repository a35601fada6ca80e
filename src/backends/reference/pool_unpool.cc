// Reference kernel for MaxUnpool: scatters X into zeros at the positions MaxPool's Indices
// recorded.
#include <algorithm>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/pool.h"

namespace fulcrum::backends::reference {
namespace {

// The unpooled shape MaxPool's inverse implies: (in - 1) * stride - pads + kernel.
Result<Shape> inferred_shape(const Tensor& x, const ops::WindowAttrs& a) {
  const size_t rank = static_cast<size_t>(x.rank() - 2);
  if (a.kernel_shape.size() != rank)
    return invalid_argument("attribute 'kernel_shape' has {} values but X {} has {} spatial axes",
                            a.kernel_shape.size(), shape_to_string(x.shape()), rank);
  if (!a.strides.empty() && a.strides.size() != rank)
    return invalid_argument("attribute 'strides' has {} values but X has {} spatial axes", a.strides.size(), rank);
  if (!a.pads.empty() && a.pads.size() != 2 * rank)
    return invalid_argument("attribute 'pads' has {} values but X has {} spatial axes (expected {})", a.pads.size(),
                            rank, 2 * rank);
  Shape shape = {x.dim(0), x.dim(1)};
  for (size_t d = 0; d < rank; ++d) {
    const int64_t stride = a.strides.empty() ? 1 : a.strides[d];
    const int64_t pads = a.pads.empty() ? 0 : a.pads[d] + a.pads[rank + d];
    const int64_t size = (x.dim(static_cast<int64_t>(d) + 2) - 1) * stride - pads + a.kernel_shape[d];
    if (size < 1) return invalid_argument("MaxUnpool output axis {} would have size {}", d + 2, size);
    shape.push_back(size);
  }
  return shape;
}

Status max_unpool(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  if (x.rank() < 3)
    return invalid_argument("input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_to_string(x.shape()));
  if (indices.shape() != x.shape() || indices.dtype() != DType::kInt64)
    return invalid_argument("input I must be an int64 tensor of X's shape {}, got {} {}", shape_to_string(x.shape()),
                            dtype_name(indices.dtype()), shape_to_string(indices.shape()));
  FULCRUM_ASSIGN_OR_RETURN(Shape inferred, inferred_shape(x, ctx.attrs<ops::WindowAttrs>()));
  Shape y_shape = inferred;
  if (ctx.has_input(2)) {
    y_shape = to_int64_vector(ctx.input(2));
    if (y_shape.size() != inferred.size() || y_shape[0] != x.dim(0) || y_shape[1] != x.dim(1))
      return invalid_argument("output_shape {} must be N, C, spatial... with X's N and C ({})",
                              shape_to_string(y_shape), shape_to_string(x.shape()));
    for (size_t d = 2; d < y_shape.size(); ++d)
      if (y_shape[d] < inferred[d])
        return invalid_argument("output_shape {} is smaller than the unpooled shape {}", shape_to_string(y_shape),
                                shape_to_string(inferred));
  }
  const int64_t total = shape_numel(inferred);
  const int64_t* idx = indices.data<int64_t>();
  for (int64_t i = 0; i < indices.numel(); ++i)
    if (idx[i] < 0 || idx[i] >= total)
      return invalid_argument("index {} in I is out of range for the unpooled shape {}", idx[i],
                              shape_to_string(inferred));
  return visit_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Indices address the unpooled shape, which sits at the start of a larger output_shape
    // (what the ONNX reference and its conformance data do).
    std::vector<T> unpooled(static_cast<size_t>(total), T{0});
    for (int64_t i = 0; i < x.numel(); ++i) unpooled[static_cast<size_t>(idx[i])] = x.data<T>()[i];
    T* y = ctx.allocate_output(0, x.dtype(), y_shape).template mutable_data<T>();
    const std::vector<int64_t> y_strides = ops::strides_of(y_shape);
    const std::vector<int64_t> u_strides = ops::strides_of(inferred);
    for (int64_t i = 0; i < total; ++i) {
      int64_t offset = 0;
      for (size_t d = 0; d < inferred.size(); ++d) offset += ((i / u_strides[d]) % inferred[d]) * y_strides[d];
      y[offset] = unpooled[static_cast<size_t>(i)];
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(MaxUnpool, max_unpool);

}  // namespace
}  // namespace fulcrum::backends::reference
