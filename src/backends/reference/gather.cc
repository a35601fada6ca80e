// Reference kernels for Gather, GatherElements and GatherND. They only move elements, so
// they dispatch on element size and handle every dtype.
#include <algorithm>
#include <cstring>

#include <initializer_list>

#include "backends/reference/indexing.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/gather.h"

namespace fulcrum::backends::reference {
namespace {

int64_t product(const Shape& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t d = begin; d < end; ++d) p *= shape[d];
  return p;
}

Status gather(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data", "indices"}));
  const Tensor& data = ctx.input(0);
  if (data.rank() == 0) return invalid_argument("input 'data' must have rank >= 1, got a scalar");
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, ops::normalize_axis(ctx.attrs<ops::GatherAttrs>().axis, data.rank()));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(ctx.input(1)));
  const int64_t extent = data.dim(axis);
  FULCRUM_RETURN_IF_ERROR(resolve_indices(indices, extent, axis));
  const Shape& ds = data.shape();
  const size_t ax = static_cast<size_t>(axis);
  Shape out_shape(ds.begin(), ds.begin() + axis);
  out_shape.insert(out_shape.end(), ctx.input(1).shape().begin(), ctx.input(1).shape().end());
  out_shape.insert(out_shape.end(), ds.begin() + axis + 1, ds.end());
  const int64_t outer = product(ds, 0, ax);
  const size_t row_bytes = static_cast<size_t>(product(ds, ax + 1, ds.size())) * dtype_size(data.dtype());
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(ctx.allocate_output(0, data.dtype(), out_shape).mutable_raw());
  const int64_t n = static_cast<int64_t>(indices.size());
  if (row_bytes == 0) return Status::ok();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j)
      std::memcpy(dst + static_cast<size_t>(o * n + j) * row_bytes,
                  src + static_cast<size_t>(o * extent + indices[static_cast<size_t>(j)]) * row_bytes, row_bytes);
  return Status::ok();
}

Status gather_elements(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data", "indices"}));
  const Tensor& data = ctx.input(0);
  const Tensor& index_tensor = ctx.input(1);
  if (data.rank() == 0) return invalid_argument("input 'data' must have rank >= 1, got a scalar");
  if (index_tensor.rank() != data.rank())
    return invalid_argument("inputs 'data' {} and 'indices' {} must have the same rank", shape_to_string(data.shape()),
                            shape_to_string(index_tensor.shape()));
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, ops::normalize_axis(ctx.attrs<ops::GatherAttrs>().axis, data.rank()));
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && index_tensor.dim(d) > data.dim(d))
      return invalid_argument("input 'indices' {} is larger than 'data' {} on axis {}",
                              shape_to_string(index_tensor.shape()), shape_to_string(data.shape()), d);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(index_tensor));
  FULCRUM_RETURN_IF_ERROR(resolve_indices(indices, data.dim(axis), axis));
  const std::vector<int64_t> strides = ops::strides_of(data.shape());
  return visit_by_size(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = data.data<T>();
    T* out = ctx.allocate_output(0, data.dtype(), index_tensor.shape()).template mutable_data<T>();
    std::vector<int64_t> pos(static_cast<size_t>(data.rank()), 0);
    for (size_t p = 0; p < indices.size(); ++p, advance(pos, index_tensor.shape())) {
      int64_t offset = 0;
      for (size_t d = 0; d < pos.size(); ++d)
        offset += (d == static_cast<size_t>(axis) ? indices[p] : pos[d]) * strides[d];
      out[p] = in[offset];
    }
    return Status::ok();
  });
}

// Checks GatherND's shapes; returns the output shape.
Result<Shape> gather_nd_shape(const Shape& data, const Shape& indices, int64_t batch_dims) {
  const int64_t r = static_cast<int64_t>(data.size());
  const int64_t q = static_cast<int64_t>(indices.size());
  if (r < 1 || q < 1) return invalid_argument("inputs 'data' and 'indices' must have rank >= 1");
  if (batch_dims >= std::min(r, q))
    return invalid_argument("attribute 'batch_dims' ({}) must be less than the ranks of 'data' ({}) and 'indices' ({})",
                            batch_dims, r, q);
  const size_t b = static_cast<size_t>(batch_dims);
  for (size_t d = 0; d < b; ++d)
    if (data[d] != indices[d])
      return invalid_argument("the first batch_dims={} dims of 'data' {} and 'indices' {} must match", batch_dims,
                              shape_to_string(data), shape_to_string(indices));
  const int64_t m = indices.back();
  if (m < 1 || m > r - batch_dims)
    return invalid_argument("the last dim of 'indices' {} must be in [1, {}]", shape_to_string(indices),
                            r - batch_dims);
  Shape out(indices.begin(), indices.end() - 1);
  out.insert(out.end(), data.begin() + batch_dims + m, data.end());
  return out;
}

Status gather_nd(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data", "indices"}));
  const Tensor& data = ctx.input(0);
  const Tensor& index_tensor = ctx.input(1);
  const int64_t batch_dims = ctx.attrs<ops::GatherNDAttrs>().batch_dims;
  FULCRUM_ASSIGN_OR_RETURN(Shape out_shape, gather_nd_shape(data.shape(), index_tensor.shape(), batch_dims));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(index_tensor));
  const Shape& ds = data.shape();
  const size_t b = static_cast<size_t>(batch_dims);
  const size_t m = static_cast<size_t>(index_tensor.shape().back());
  const int64_t batches = product(ds, 0, b);
  const int64_t tuples_per_batch = product(index_tensor.shape(), b, index_tensor.shape().size() - 1);
  const int64_t batch_stride = product(ds, b, ds.size());
  const std::vector<int64_t> strides = ops::strides_of(ds);
  const size_t elem = dtype_size(data.dtype());
  const size_t slice_bytes = static_cast<size_t>(product(ds, b + m, ds.size())) * elem;
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(ctx.allocate_output(0, data.dtype(), out_shape).mutable_raw());
  for (int64_t batch = 0; batch < batches; ++batch) {
    for (int64_t t = 0; t < tuples_per_batch; ++t) {
      const size_t tuple = static_cast<size_t>(batch * tuples_per_batch + t);
      int64_t offset = batch * batch_stride;
      for (size_t k = 0; k < m; ++k) {
        const int64_t axis = static_cast<int64_t>(b + k);
        FULCRUM_ASSIGN_OR_RETURN(int64_t i, resolve_index(indices[tuple * m + k], ds[b + k], axis));
        offset += i * strides[b + k];
      }
      if (slice_bytes > 0)
        std::memcpy(dst + tuple * slice_bytes, src + static_cast<size_t>(offset) * elem, slice_bytes);
    }
  }
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Gather, gather);
FULCRUM_REFERENCE_KERNEL(GatherElements, gather_elements);
FULCRUM_REFERENCE_KERNEL(GatherND, gather_nd);

}  // namespace
}  // namespace fulcrum::backends::reference
