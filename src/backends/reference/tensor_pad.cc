// Reference kernel for Pad (modes constant, reflect, edge; negative pads crop).
#include <cstring>

#include "backends/reference/kernel.h"
#include "backends/reference/tensor_util.h"
#include "backends/reference/util.h"
#include "ops/tensor.h"
#include "ops/tensor_shape.h"

namespace fulcrum::backends::reference {
namespace {

using tensor_kernels::int_list_input;

// Source index along an axis of size `dim` for output index o (already shifted by the
// begin pad), or -1 where the output takes the constant.
int64_t pad_source(int64_t i, int64_t dim, ops::PadMode mode) {
  if (i >= 0 && i < dim) return i;
  if (mode == ops::PadMode::kConstant) return -1;
  if (mode == ops::PadMode::kEdge) return i < 0 ? 0 : dim - 1;
  // Reflect without repeating the edge; numpy keeps reflecting when a pad exceeds dim - 1.
  if (dim == 1) return 0;
  const int64_t period = 2 * (dim - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < dim ? m : period - m;
}

// The value constant padding writes, as a 0-D tensor of x's dtype.
Result<Tensor> pad_constant(const KernelContext& ctx, DType dtype) {
  if (ctx.opset() < 11) return tensor_kernels::scalar_of(dtype, ctx.attrs<ops::PadAttrs>().value);
  if (!ctx.has_input(2)) return Tensor::zeros(dtype, {});
  const Tensor& v = ctx.input(2);
  if (v.dtype() != dtype)
    return invalid_argument("input 'constant_value' is {} but the data is {}", dtype_name(v.dtype()),
                            dtype_name(dtype));
  if (v.numel() == 0) return Tensor::zeros(dtype, {});
  if (v.numel() != 1)
    return invalid_argument("input 'constant_value' must hold one value, got shape {}", shape_to_string(v.shape()));
  return v;
}

// Per-axis maps from output index to source index (-1: constant).
Result<std::vector<std::vector<int64_t>>> pad_maps(const Shape& in, const std::vector<ops::PadAmount>& amounts,
                                                   ops::PadMode mode) {
  std::vector<std::vector<int64_t>> maps(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t dim = in[d];
    const int64_t out_dim = dim + amounts[d].begin + amounts[d].end;
    if (out_dim < 0)
      return invalid_argument("pads {}, {} on axis {} of size {} leave a negative size", amounts[d].begin,
                              amounts[d].end, d, dim);
    if (mode != ops::PadMode::kConstant && dim == 0 && out_dim > 0)
      return invalid_argument("cannot {}-pad axis {}, which is empty", mode == ops::PadMode::kEdge ? "edge" : "reflect",
                              d);
    maps[d].resize(static_cast<size_t>(out_dim));
    for (int64_t o = 0; o < out_dim; ++o) maps[d][static_cast<size_t>(o)] = pad_source(o - amounts[d].begin, dim, mode);
  }
  return maps;
}

template <class T>
void fill_padded(const Tensor& x, const std::vector<std::vector<int64_t>>& maps, T constant, Tensor& y) {
  const T* in = x.data<T>();
  T* out = y.mutable_data<T>();
  const std::vector<int64_t> strides = ops::strides_of(x.shape());
  const size_t rank = maps.size();
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const std::vector<int64_t>& last = maps[rank - 1];
  const auto row = static_cast<int64_t>(last.size());
  const int64_t rows = row == 0 ? 0 : y.numel() / row;
  std::vector<int64_t> index(rank - 1, 0);
  for (int64_t r = 0; r < rows; ++r, out += row) {
    int64_t base = 0;
    bool is_constant = false;
    for (size_t d = 0; d + 1 < rank; ++d) {
      int64_t s = maps[d][static_cast<size_t>(index[d])];
      is_constant = is_constant || s < 0;
      base += s * strides[d];
    }
    for (int64_t o = 0; o < row; ++o) {
      int64_t s = last[static_cast<size_t>(o)];
      out[o] = (is_constant || s < 0) ? constant : in[base + s];
    }
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < static_cast<int64_t>(maps[d].size())) break;
      index[d] = 0;
    }
  }
}

Status pad(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"data"}));
  const auto& attrs = ctx.attrs<ops::PadAttrs>();
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> pads = attrs.pads, axes;
  if (ctx.opset() >= 11) {
    FULCRUM_ASSIGN_OR_RETURN(pads, int_list_input(ctx, 1, "'pads'"));
    if (ctx.opset() >= 18 && ctx.has_input(3)) {
      FULCRUM_ASSIGN_OR_RETURN(axes, int_list_input(ctx, 3, "'axes'"));
    }
  }
  FULCRUM_ASSIGN_OR_RETURN(auto amounts, ops::pad_amounts(x.rank(), pads, axes));
  FULCRUM_ASSIGN_OR_RETURN(auto maps, pad_maps(x.shape(), amounts, attrs.mode));
  FULCRUM_ASSIGN_OR_RETURN(Tensor constant, pad_constant(ctx, x.dtype()));
  Shape shape;
  for (const auto& m : maps) shape.push_back(static_cast<int64_t>(m.size()));
  return visit_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), shape);
    T value;
    std::memcpy(&value, constant.raw(), sizeof(T));
    fill_padded<T>(x, maps, value, y);
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Pad, pad);

}  // namespace
}  // namespace fulcrum::backends::reference
