// Reference kernels for ScatterElements, Scatter (its opset 9-10 name) and ScatterND. The
// output is a copy of 'data' with the updates applied in index order, so with duplicate
// indices and no reduction the last update wins.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include <initializer_list>

#include "backends/reference/indexing.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/gather.h"

namespace fulcrum::backends::reference {
namespace {

using ops::ScatterReduction;

template <class T>
T combine(ScatterReduction reduction, T current, T update) {
  switch (reduction) {
    case ScatterReduction::kAdd: return static_cast<T>(current + update);
    case ScatterReduction::kMul: return static_cast<T>(current * update);
    case ScatterReduction::kMax: return std::max(current, update);
    case ScatterReduction::kMin: return std::min(current, update);
    case ScatterReduction::kNone: break;
  }
  return update;
}

// Copies 'data' to output 0, then calls apply(out, updates) with both typed as T: arithmetic
// reductions need numeric types, plain replacement takes any dtype.
template <class Apply>
Status scatter_into_copy(KernelContext& ctx, ScatterReduction reduction, Apply apply) {
  const Tensor& data = ctx.input(0);
  const Tensor& updates = ctx.input(2);
  if (updates.dtype() != data.dtype())
    return invalid_argument("input 'updates' must have the dtype of 'data' ({}), got {}", dtype_name(data.dtype()),
                            dtype_name(updates.dtype()));
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.allocate_output(0, data.dtype(), data.shape());
    std::copy(data.data<T>(), data.data<T>() + data.numel(), out.mutable_data<T>());
    return apply(out.mutable_data<T>(), updates.data<T>());
  };
  if (reduction == ScatterReduction::kNone) return visit_by_size(data.dtype(), run);
  return visit_numeric(data.dtype(), run);
}

Status scatter_elements(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data", "indices", "updates"}));
  const auto& attrs = ctx.attrs<ops::ScatterElementsAttrs>();
  const Tensor& data = ctx.input(0);
  const Tensor& index_tensor = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  if (data.rank() == 0) return invalid_argument("input 'data' must have rank >= 1, got a scalar");
  if (index_tensor.rank() != data.rank() || updates.shape() != index_tensor.shape())
    return invalid_argument("'indices' {} and 'updates' {} must have the same shape, of the rank of 'data' {}",
                            shape_to_string(index_tensor.shape()), shape_to_string(updates.shape()),
                            shape_to_string(data.shape()));
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, ops::normalize_axis(attrs.axis, data.rank()));
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && index_tensor.dim(d) > data.dim(d))
      return invalid_argument("input 'indices' {} is larger than 'data' {} on axis {}",
                              shape_to_string(index_tensor.shape()), shape_to_string(data.shape()), d);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(index_tensor));
  FULCRUM_RETURN_IF_ERROR(resolve_indices(indices, data.dim(axis), axis));
  const std::vector<int64_t> strides = ops::strides_of(data.shape());
  return scatter_into_copy(ctx, attrs.reduction, [&](auto* out, const auto* upd) {
    std::vector<int64_t> pos(static_cast<size_t>(data.rank()), 0);
    for (size_t p = 0; p < indices.size(); ++p, advance(pos, index_tensor.shape())) {
      int64_t offset = 0;
      for (size_t d = 0; d < pos.size(); ++d)
        offset += (d == static_cast<size_t>(axis) ? indices[p] : pos[d]) * strides[d];
      out[offset] = combine(attrs.reduction, out[offset], upd[p]);
    }
    return Status::ok();
  });
}

Status scatter_nd(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data", "indices", "updates"}));
  const ScatterReduction reduction = ctx.attrs<ops::ScatterNDAttrs>().reduction;
  const Tensor& data = ctx.input(0);
  const Tensor& index_tensor = ctx.input(1);
  const Shape& ds = data.shape();
  const Shape& is = index_tensor.shape();
  if (ds.empty() || is.empty()) return invalid_argument("inputs 'data' and 'indices' must have rank >= 1");
  const int64_t k = is.back();
  if (k < 1 || k > data.rank())
    return invalid_argument("the last dim of 'indices' {} must be in [1, {}]", shape_to_string(is), data.rank());
  Shape update_shape(is.begin(), is.end() - 1);
  update_shape.insert(update_shape.end(), ds.begin() + k, ds.end());
  if (ctx.input(2).shape() != update_shape)
    return invalid_argument("input 'updates' must have shape {} (indices {}, data {}), got {}",
                            shape_to_string(update_shape), shape_to_string(is), shape_to_string(ds),
                            shape_to_string(ctx.input(2).shape()));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(index_tensor));
  const std::vector<int64_t> strides = ops::strides_of(ds);
  const size_t kk = static_cast<size_t>(k);
  const size_t tuples = indices.size() / kk;
  std::vector<int64_t> offsets(tuples, 0);
  for (size_t t = 0; t < tuples; ++t) {
    for (size_t j = 0; j < kk; ++j) {
      FULCRUM_ASSIGN_OR_RETURN(int64_t i, resolve_index(indices[t * kk + j], ds[j], static_cast<int64_t>(j)));
      offsets[t] += i * strides[j];
    }
  }
  const int64_t slice = strides[kk - 1];  // elements per update: the product of data dims k..r-1
  return scatter_into_copy(ctx, reduction, [&](auto* out, const auto* upd) {
    for (size_t t = 0; t < tuples; ++t)
      for (int64_t e = 0; e < slice; ++e)
        out[offsets[t] + e] = combine(reduction, out[offsets[t] + e], upd[static_cast<int64_t>(t) * slice + e]);
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(ScatterElements, scatter_elements);
FULCRUM_REFERENCE_KERNEL(Scatter, scatter_elements);
FULCRUM_REFERENCE_KERNEL(ScatterND, scatter_nd);

}  // namespace
}  // namespace fulcrum::backends::reference
