// Reference kernels for the variadic elementwise ops (Sum, Mean, Max, Min) and Where.
#include <vector>

#include "backends/reference/elementwise_common.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::reference {
namespace {

using ew::load;

// The output shape of a variadic op: numpy broadcasting from opset 8, equal shapes before.
Result<Shape> variadic_shape(const KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return invalid_argument("needs at least one input");
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return invalid_argument("input {} is missing", i);
    const Tensor& t = ctx.input(i);
    if (t.dtype() != ctx.input(0).dtype())
      return invalid_argument("input {} has dtype {}, but input 0 has {}", i, dtype_name(t.dtype()),
                              dtype_name(ctx.input(0).dtype()));
    if (ctx.opset() < 8 && t.shape() != ctx.input(0).shape())
      return invalid_argument("input {} has shape {}, but input 0 has {} (opset < 8 does not broadcast)", i,
                              shape_to_string(t.shape()), shape_to_string(ctx.input(0).shape()));
    shapes.push_back(t.shape());
  }
  return ops::broadcast_shapes(shapes);
}

// y = op(...op(op(x0, x1), x2)..., xn), each step rounded to the inputs' dtype; Mean then
// divides by the number of inputs.
template <class Op>
Status variadic(KernelContext& ctx, Op op, bool mean) {
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, variadic_shape(ctx));
  const Tensor& first = ctx.input(0);
  return ew::visit_arith(first.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ew::compute_t<T>;
    Tensor& y = ctx.allocate_output(0, first.dtype(), shape);
    T* out = y.mutable_data<T>();
    const T* in0 = first.data<T>();
    ew::for_each_run(shape, {first.shape()}, [&](int64_t o, const int64_t* off, const int64_t* st, int64_t n) {
      for (int64_t j = 0; j < n; ++j) out[o + j] = in0[off[0] + j * st[0]];
    });
    // y has the output shape, so reading and writing it at the same index is safe.
    for (size_t k = 1; k < ctx.num_inputs(); ++k)
      ew::apply_binary<T, T, T>(y, ctx.input(k), y, [&](T a, T b) { return static_cast<T>(op(load(a), load(b))); });
    if (mean) {
      const C count = static_cast<C>(ctx.num_inputs());
      for (int64_t i = 0; i < y.numel(); ++i) out[i] = static_cast<T>(static_cast<C>(load(out[i]) / count));
    }
    return Status::ok();
  });
}

Status sum(KernelContext& ctx) { return variadic(ctx, ew::AddOp{}, false); }
Status mean(KernelContext& ctx) { return variadic(ctx, ew::AddOp{}, true); }
Status max(KernelContext& ctx) { return variadic(ctx, ew::MaxOp{}, false); }
Status min(KernelContext& ctx) { return variadic(ctx, ew::MinOp{}, false); }

// y = condition ? X : Y, all three broadcast together; X and Y may have any dtype.
Status where(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "condition"));
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 1, "X"));
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 2, "Y"));
  const Tensor& cond = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  if (cond.dtype() != DType::kBool)
    return invalid_argument("input 'condition' must be bool, got {}", dtype_name(cond.dtype()));
  if (x.dtype() != y.dtype())
    return invalid_argument("inputs X and Y have different dtypes ({} and {})", dtype_name(x.dtype()),
                            dtype_name(y.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, ops::broadcast_shapes({cond.shape(), x.shape(), y.shape()}));
  return visit_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
    const bool* pc = cond.data<bool>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.mutable_data<T>();
    ew::for_each_run(shape, {cond.shape(), x.shape(), y.shape()},
                     [&](int64_t o, const int64_t* off, const int64_t* st, int64_t n) {
                       for (int64_t j = 0; j < n; ++j)
                         po[o + j] = pc[off[0] + j * st[0]] ? px[off[1] + j * st[1]] : py[off[2] + j * st[2]];
                     });
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Sum, sum);
FULCRUM_REFERENCE_KERNEL(Mean, mean);
FULCRUM_REFERENCE_KERNEL(Max, max);
FULCRUM_REFERENCE_KERNEL(Min, min);
FULCRUM_REFERENCE_KERNEL(Where, where);

}  // namespace
}  // namespace fulcrum::backends::reference
