// Reference kernels for ops that generate or rewrite values by position: ConstantOfShape,
// Range, EyeLike, OneHot, Trilu, CumSum.
#include <cstring>

#include "backends/reference/kernel.h"
#include "backends/reference/tensor_util.h"
#include "backends/reference/util.h"
#include "core/float16.h"
#include "ops/tensor.h"
#include "ops/tensor_shape.h"

namespace fulcrum::backends::reference {
namespace {

using tensor_kernels::int_list_input;
using tensor_kernels::int_scalar_input;

// Fills every element of `t` with the bytes of the one-element tensor `value` (same dtype).
Status fill_with(Tensor& t, const Tensor& value) {
  return visit_by_size(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v;
    std::memcpy(&v, value.raw(), sizeof(T));
    T* out = t.mutable_data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = v;
    return Status::ok();
  });
}

Status constant_of_shape(KernelContext& ctx) {
  const Tensor& value = ctx.attrs<ops::ConstantOfShapeAttrs>().value;
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, int_list_input(ctx, 0, "'input' (the shape)"));
  for (int64_t d : shape)
    if (d < 0) return invalid_argument("shape {} has a negative dimension", shape_to_string(shape));
  Tensor& y = ctx.allocate_output(0, value.dtype(), shape);
  return fill_with(y, value);
}

Status range(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"start", "limit", "delta"}));
  const char* names[] = {"'start'", "'limit'", "'delta'"};
  for (size_t i = 0; i < 3; ++i) {
    const Tensor& t = ctx.input(i);
    if (t.numel() != 1)
      return invalid_argument("input {} must be a scalar, got shape {}", names[i], shape_to_string(t.shape()));
    if (t.dtype() != ctx.input(0).dtype())
      return invalid_argument("inputs 'start' and {} have different dtypes ({} and {})", names[i],
                              dtype_name(ctx.input(0).dtype()), dtype_name(t.dtype()));
  }
  const DType dtype = ctx.input(0).dtype();
  return visit_numeric(dtype, [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T start = ctx.input(0).data<T>()[0];
    const T limit = ctx.input(1).data<T>()[0];
    const T delta = ctx.input(2).data<T>()[0];
    int64_t n = 0;
    if constexpr (std::is_floating_point_v<T>) {
      FULCRUM_ASSIGN_OR_RETURN(n, ops::range_count_float(start, limit, delta));
    } else {
      FULCRUM_ASSIGN_OR_RETURN(n, ops::range_count_int(static_cast<int64_t>(start), static_cast<int64_t>(limit),
                                                       static_cast<int64_t>(delta)));
    }
    T* out = ctx.allocate_output(0, dtype, {n}).template mutable_data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>)
        out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
      else
        out[i] = static_cast<T>(static_cast<int64_t>(start) + i * static_cast<int64_t>(delta));
    }
    return Status::ok();
  });
}

Status eye_like(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const auto& attrs = ctx.attrs<ops::EyeLikeAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) return invalid_argument("input must be 2-D, got shape {}", shape_to_string(x.shape()));
  const DType dtype = attrs.dtype == DType::kUndefined ? x.dtype() : attrs.dtype;
  const Tensor one = tensor_kernels::scalar_of(dtype, 1.0);
  Tensor& y = ctx.allocate_output(0, dtype, x.shape());
  const size_t elem = dtype_size(dtype);
  char* out = static_cast<char*>(y.mutable_raw());
  for (int64_t i = 0; i < x.dim(0); ++i) {
    const int64_t j = i + attrs.k;
    if (j >= 0 && j < x.dim(1)) std::memcpy(out + static_cast<size_t>(i * x.dim(1) + j) * elem, one.raw(), elem);
  }
  return Status::ok();
}

// OneHot's depth: a one-element numeric tensor (float depths are truncated).
Result<int64_t> one_hot_depth(const Tensor& t) {
  if (t.numel() != 1)
    return invalid_argument("input 'depth' must hold one value, got shape {}", shape_to_string(t.shape()));
  int64_t depth = 0;
  FULCRUM_RETURN_IF_ERROR(visit_numeric(t.dtype(), [&](auto tag) {
    depth = static_cast<int64_t>(t.data<typename decltype(tag)::type>()[0]);
    return Status::ok();
  }));
  if (depth < 0) return invalid_argument("input 'depth' is negative ({})", depth);
  return depth;
}

Status one_hot(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"indices", "depth", "values"}));
  const Tensor& indices = ctx.input(0);
  const Tensor& values = ctx.input(2);
  FULCRUM_ASSIGN_OR_RETURN(int64_t depth, one_hot_depth(ctx.input(1)));
  if (values.numel() != 2)
    return invalid_argument("input 'values' must hold [off_value, on_value], got shape {}",
                            shape_to_string(values.shape()));
  const int64_t rank = indices.rank() + 1;
  int64_t axis = ctx.attrs<ops::OneHotAttrs>().axis;
  if (axis < -rank || axis >= rank)
    return invalid_argument("attribute 'axis' {} is out of range for output rank {}", axis, rank);
  if (axis < 0) axis += rank;
  Shape shape = indices.shape();
  shape.insert(shape.begin() + axis, depth);
  const int64_t inner = shape_numel(Shape(indices.shape().begin() + axis, indices.shape().end()));
  std::vector<int64_t> idx(static_cast<size_t>(indices.numel()));
  FULCRUM_RETURN_IF_ERROR(visit_numeric(indices.dtype(), [&](auto tag) {
    const auto* p = indices.data<typename decltype(tag)::type>();
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(p[i]);
    return Status::ok();
  }));
  return visit_by_size(values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T off = values.data<T>()[0], on = values.data<T>()[1];
    T* out = ctx.allocate_output(0, values.dtype(), shape).template mutable_data<T>();
    for (int64_t i = 0; i < shape_numel(shape); ++i) out[i] = off;
    for (size_t i = 0; i < idx.size(); ++i) {
      int64_t v = idx[i];
      // Opset 11 made [-depth, -1] count from the end; before, they were out of range.
      if (v < 0 && ctx.opset() >= 11) v += depth;
      if (v < 0 || v >= depth) continue;
      const int64_t o = static_cast<int64_t>(i) / inner, r = static_cast<int64_t>(i) % inner;
      out[(o * depth + v) * inner + r] = on;
    }
    return Status::ok();
  });
}

Status trilu(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const bool upper = ctx.attrs<ops::TriluAttrs>().upper;
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return invalid_argument("input must have rank >= 2, got shape {}", shape_to_string(x.shape()));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    FULCRUM_ASSIGN_OR_RETURN(k, int_scalar_input(ctx, 1, "'k'"));
  }
  const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  Tensor y = x.clone();
  const size_t elem = dtype_size(x.dtype());
  char* out = static_cast<char*>(y.mutable_raw());
  const int64_t matrices = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const bool keep = upper ? j - i >= k : j - i <= k;
        if (!keep) std::memset(out + static_cast<size_t>((m * rows + i) * cols + j) * elem, 0, elem);
      }
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

// Running sums along the middle axis of [outer, dim, inner]; `add` rounds like the dtype.
template <class T, class Add>
void cum_sum_impl(const T* in, T* out, int64_t outer, int64_t dim, int64_t inner, const ops::CumSumAttrs& attrs,
                  Add add) {
  std::vector<T> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    std::fill(acc.begin(), acc.end(), T{});
    for (int64_t s = 0; s < dim; ++s) {
      const int64_t t = attrs.reverse ? dim - 1 - s : s;
      const int64_t base = (o * dim + t) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        T& a = acc[static_cast<size_t>(i)];
        if (attrs.exclusive) out[base + i] = a;
        a = add(a, in[base + i]);
        if (!attrs.exclusive) out[base + i] = a;
      }
    }
  }
}

Status cum_sum(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"x"}));
  const auto& attrs = ctx.attrs<ops::CumSumAttrs>();
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(int64_t axis, int_scalar_input(ctx, 1, "'axis'"));
  if (axis < -x.rank() || axis >= x.rank())
    return invalid_argument("input 'axis' {} is out of range for rank {}", axis, x.rank());
  if (axis < 0) axis += x.rank();
  const int64_t dim = x.dim(axis);
  const int64_t outer = shape_numel(Shape(x.shape().begin(), x.shape().begin() + axis));
  const int64_t inner = shape_numel(Shape(x.shape().begin() + axis + 1, x.shape().end()));
  Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
  if (x.dtype() == DType::kFloat16 || x.dtype() == DType::kBFloat16) {
    const bool half = x.dtype() == DType::kFloat16;
    cum_sum_impl(x.data<uint16_t>(), y.mutable_data<uint16_t>(), outer, dim, inner, attrs,
                 [half](uint16_t a, uint16_t b) {
                   return half ? float_to_half(half_to_float(a) + half_to_float(b))
                               : float_to_bfloat16(bfloat16_to_float(a) + bfloat16_to_float(b));
                 });
    return Status::ok();
  }
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    cum_sum_impl(x.data<T>(), y.mutable_data<T>(), outer, dim, inner, attrs,
                 [](T a, T b) { return static_cast<T>(a + b); });
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(ConstantOfShape, constant_of_shape);
FULCRUM_REFERENCE_KERNEL(Range, range);
FULCRUM_REFERENCE_KERNEL(EyeLike, eye_like);
FULCRUM_REFERENCE_KERNEL(OneHot, one_hot);
FULCRUM_REFERENCE_KERNEL(Trilu, trilu);
FULCRUM_REFERENCE_KERNEL(CumSum, cum_sum);

}  // namespace
}  // namespace fulcrum::backends::reference
