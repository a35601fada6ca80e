#include "backends/reference/tensor_util.h"

#include <cstring>

#include "backends/reference/util.h"
#include "core/error.h"
#include "core/float16.h"
#include "ops/shape_utils.h"

namespace fulcrum::backends::reference::tensor_kernels {
namespace {

template <class T>
void gather_run(const char* src, int64_t stride, int64_t n, char* dst) {
  const T* s = reinterpret_cast<const T*>(src);
  T* d = reinterpret_cast<T*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = s[i * stride];
}

// Copies n elements read `stride` elements apart into a dense run.
void copy_run(const char* src, int64_t stride, int64_t n, char* dst, size_t elem) {
  if (stride == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * elem);
    return;
  }
  switch (elem) {
    case 1: return gather_run<uint8_t>(src, stride, n, dst);
    case 2: return gather_run<uint16_t>(src, stride, n, dst);
    case 4: return gather_run<uint32_t>(src, stride, n, dst);
    case 8: return gather_run<uint64_t>(src, stride, n, dst);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * elem, src + i * stride * static_cast<int64_t>(elem), elem);
  }
}

}  // namespace

void strided_copy(const void* src, const std::vector<int64_t>& src_strides, const Shape& shape, void* dst,
                  size_t elem_size) {
  const int64_t total = shape_numel(shape);
  if (total == 0) return;
  // Size-1 axes never move the source; an axis whose stride equals the next axis's whole
  // extent continues it, so the two are one longer axis.
  Shape dims;
  std::vector<int64_t> strides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!dims.empty() && strides.back() == src_strides[d] * shape[d]) {
      dims.back() *= shape[d];
      strides.back() = src_strides[d];
    } else {
      dims.push_back(shape[d]);
      strides.push_back(src_strides[d]);
    }
  }
  const auto elem = static_cast<int64_t>(elem_size);
  const char* base = static_cast<const char*>(src);
  char* out = static_cast<char*>(dst);
  if (dims.empty()) {
    std::memcpy(out, base, elem_size);
    return;
  }
  const int64_t inner = dims.back();
  const int64_t inner_stride = strides.back();
  const size_t outer_rank = dims.size() - 1;
  std::vector<int64_t> index(outer_rank, 0);
  int64_t offset = 0;
  for (int64_t done = 0; done < total; done += inner) {
    copy_run(base + offset * elem, inner_stride, inner, out, elem_size);
    out += inner * elem;
    for (size_t d = outer_rank; d-- > 0;) {
      offset += strides[d];
      if (++index[d] < dims[d]) break;
      offset -= strides[d] * dims[d];
      index[d] = 0;
    }
  }
}

Tensor permute(const Tensor& in, const Shape& view_shape, const std::vector<int64_t>& perm) {
  const std::vector<int64_t> view_strides = ops::strides_of(view_shape);
  Shape out_shape(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    out_shape[d] = view_shape[static_cast<size_t>(perm[d])];
    strides[d] = view_strides[static_cast<size_t>(perm[d])];
  }
  Tensor out = Tensor::zeros(in.dtype(), out_shape);
  strided_copy(in.raw(), strides, out_shape, out.mutable_raw(), dtype_size(in.dtype()));
  return out;
}

bool is_integer(DType dtype) {
  switch (dtype) {
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kInt16:
    case DType::kUInt16:
    case DType::kInt32:
    case DType::kUInt32:
    case DType::kInt64:
    case DType::kUInt64: return true;
    default: return false;
  }
}

Tensor scalar_of(DType dtype, double value) {
  Tensor t = Tensor::zeros(dtype, {});
  if (dtype == DType::kFloat16) {
    *t.mutable_data<uint16_t>() = float_to_half(static_cast<float>(value));
  } else if (dtype == DType::kBFloat16) {
    *t.mutable_data<uint16_t>() = float_to_bfloat16(static_cast<float>(value));
  } else {
    Status s = visit_all(dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      *t.mutable_data<T>() = static_cast<T>(value);
      return Status::ok();
    });
    (void)s;  // every DType but kUndefined is handled above or by visit_all
  }
  return t;
}

Result<std::vector<int64_t>> int_list_input(const KernelContext& ctx, size_t i, std::string_view what) {
  if (!ctx.has_input(i)) return invalid_argument("input {} is missing", what);
  const Tensor& t = ctx.input(i);
  if (!is_integer(t.dtype()))
    return invalid_argument("input {} must be an integer tensor, got {}", what, dtype_name(t.dtype()));
  if (t.rank() > 1) return invalid_argument("input {} must be 1-D, got shape {}", what, shape_to_string(t.shape()));
  return to_int64_vector(t);
}

Result<int64_t> int_scalar_input(const KernelContext& ctx, size_t i, std::string_view what) {
  if (!ctx.has_input(i)) return invalid_argument("input {} is missing", what);
  const Tensor& t = ctx.input(i);
  if (!is_integer(t.dtype()))
    return invalid_argument("input {} must be an integer tensor, got {}", what, dtype_name(t.dtype()));
  if (t.numel() != 1)
    return invalid_argument("input {} must hold one value, got shape {}", what, shape_to_string(t.shape()));
  return read_as_int64(t, 0);
}

}  // namespace fulcrum::backends::reference::tensor_kernels
