// Reference kernels for ops that pick elements by value or by a per-batch length:
// Compress, ReverseSequence, NonZero.
#include <cstring>

#include "backends/reference/kernel.h"
#include "backends/reference/tensor_util.h"
#include "backends/reference/util.h"
#include "ops/tensor.h"

namespace fulcrum::backends::reference {
namespace {

// The indices along an axis of size `dim` whose condition is true. numpy allows a condition
// longer than the axis as long as the extra entries are false; a shorter one drops the rest.
Result<std::vector<int64_t>> selected_indices(const Tensor& condition, int64_t dim) {
  if (condition.dtype() != DType::kBool)
    return invalid_argument("input 'condition' must be bool, got {}", dtype_name(condition.dtype()));
  if (condition.rank() != 1)
    return invalid_argument("input 'condition' must be 1-D, got shape {}", shape_to_string(condition.shape()));
  std::vector<int64_t> out;
  const bool* c = condition.data<bool>();
  for (int64_t i = 0; i < condition.numel(); ++i) {
    if (!c[i]) continue;
    if (i >= dim) return invalid_argument("input 'condition' selects index {}, but the axis has size {}", i, dim);
    out.push_back(i);
  }
  return out;
}

Status compress(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input", "condition"}));
  const auto& attrs = ctx.attrs<ops::CompressAttrs>();
  Tensor x = ctx.input(0);
  int64_t axis = 0;
  if (attrs.axis) {
    if (*attrs.axis < -x.rank() || *attrs.axis >= x.rank())
      return invalid_argument("attribute 'axis' {} is out of range for rank {}", *attrs.axis, x.rank());
    axis = *attrs.axis < 0 ? *attrs.axis + x.rank() : *attrs.axis;
  } else {
    x = x.reshaped({x.numel()});
  }
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> picked, selected_indices(ctx.input(1), x.dim(axis)));
  Shape shape = x.shape();
  shape[static_cast<size_t>(axis)] = static_cast<int64_t>(picked.size());
  Tensor& y = ctx.allocate_output(0, x.dtype(), shape);
  const size_t elem = dtype_size(x.dtype());
  const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + axis));
  const size_t inner = static_cast<size_t>(shape_numel(Shape(shape.begin() + axis + 1, shape.end()))) * elem;
  const char* in = static_cast<const char*>(x.raw());
  char* out = static_cast<char*>(y.mutable_raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : picked) {
      std::memcpy(out, in + static_cast<size_t>(o * x.dim(axis) + i) * inner, inner);
      out += inner;
    }
  return Status::ok();
}

Status reverse_sequence(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"input"}));
  const auto& attrs = ctx.attrs<ops::ReverseSequenceAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return invalid_argument("input must have rank >= 2, got shape {}", shape_to_string(x.shape()));
  const int64_t batch = x.dim(attrs.batch_axis);
  const int64_t time = x.dim(attrs.time_axis);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> lens, tensor_kernels::int_list_input(ctx, 1, "'sequence_lens'"));
  if (static_cast<int64_t>(lens.size()) != batch)
    return invalid_argument("input 'sequence_lens' has {} entries for a batch of {}", lens.size(), batch);
  for (int64_t len : lens)
    if (len < 0 || len > time)
      return invalid_argument("sequence length {} is outside [0, {}] (the time axis)", len, time);
  Tensor y = x.clone();
  const size_t elem = dtype_size(x.dtype());
  const size_t inner = static_cast<size_t>(shape_numel(Shape(x.shape().begin() + 2, x.shape().end()))) * elem;
  // Byte offset of the inner block at (batch b, time t), whichever axis comes first.
  auto at = [&](int64_t b, int64_t t) {
    return static_cast<size_t>(attrs.batch_axis == 0 ? b * time + t : t * batch + b) * inner;
  };
  const char* in = static_cast<const char*>(x.raw());
  char* out = static_cast<char*>(y.mutable_raw());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < lens[static_cast<size_t>(b)]; ++t)
      std::memcpy(out + at(b, t), in + at(b, lens[static_cast<size_t>(b)] - 1 - t), inner);
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

// Whether element i is non-zero; float compares as a number, so -0.0 is zero and NaN is not.
Result<std::vector<bool>> nonzero_mask(const Tensor& x) {
  std::vector<bool> mask(static_cast<size_t>(x.numel()));
  if (x.dtype() == DType::kFloat16 || x.dtype() == DType::kBFloat16) {
    const uint16_t* p = x.data<uint16_t>();
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = (p[i] & 0x7fff) != 0;
    return mask;
  }
  Status s = visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x.data<T>();
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = p[i] != T(0);
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return mask;
}

// Output [rank, count] of int64 coordinates in row-major order. A scalar is treated as a
// one-element vector (numpy's old behaviour, and onnxruntime's).
Status non_zero(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X"}));
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<bool> mask, nonzero_mask(x));
  const Shape dims = x.rank() == 0 ? Shape{1} : x.shape();
  const std::vector<int64_t> strides = ops::strides_of(dims);
  int64_t count = 0;
  for (bool m : mask) count += m;
  Tensor& y = ctx.allocate_output(0, DType::kInt64, {static_cast<int64_t>(dims.size()), count});
  int64_t* out = y.mutable_data<int64_t>();
  int64_t k = 0;
  for (size_t i = 0; i < mask.size(); ++i) {
    if (!mask[i]) continue;
    for (size_t d = 0; d < dims.size(); ++d)
      out[static_cast<int64_t>(d) * count + k] = (static_cast<int64_t>(i) / strides[d]) % dims[d];
    ++k;
  }
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(Compress, compress);
FULCRUM_REFERENCE_KERNEL(ReverseSequence, reverse_sequence);
FULCRUM_REFERENCE_KERNEL(NonZero, non_zero);

}  // namespace
}  // namespace fulcrum::backends::reference
