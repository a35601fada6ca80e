// Helpers shared by reference kernels: dtype dispatch and broadcast iteration.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "backends/reference/kernel.h"
#include "core/error.h"
#include "fulcrum/tensor.h"
#include "ops/shape_utils.h"

namespace fulcrum::backends::reference {

template <class T>
struct TypeTag {
  using type = T;
};

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::kUInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DType::kInt16;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DType::kUInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DType::kUInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DType::kUInt64;
  else if constexpr (std::is_same_v<T, bool>)
    return DType::kBool;
  else
    return DType::kUndefined;
}

inline Status unsupported_dtype(DType dtype) {
  return unimplemented("dtype {} is not supported by this op", dtype_name(dtype));
}

// visit_*(dtype, [&](auto tag) -> Status { using T = typename decltype(tag)::type; ... })
template <class F>
Status visit_float(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    default: return unsupported_dtype(dtype);
  }
}

template <class F>
Status visit_int(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kInt8: return f(TypeTag<int8_t>{});
    case DType::kUInt8: return f(TypeTag<uint8_t>{});
    case DType::kInt16: return f(TypeTag<int16_t>{});
    case DType::kUInt16: return f(TypeTag<uint16_t>{});
    case DType::kInt32: return f(TypeTag<int32_t>{});
    case DType::kUInt32: return f(TypeTag<uint32_t>{});
    case DType::kInt64: return f(TypeTag<int64_t>{});
    case DType::kUInt64: return f(TypeTag<uint64_t>{});
    default: return unsupported_dtype(dtype);
  }
}

template <class F>
Status visit_numeric(DType dtype, F&& f) {
  if (dtype == DType::kFloat32 || dtype == DType::kFloat64) return visit_float(dtype, f);
  return visit_int(dtype, f);
}

// Numeric types plus bool: for ops that only move data (Concat, Gather, Where...).
template <class F>
Status visit_all(DType dtype, F&& f) {
  if (dtype == DType::kBool) return f(TypeTag<bool>{});
  return visit_numeric(dtype, f);
}

// Ops that only move bytes dispatch on element size.
template <class F>
Status visit_by_size(DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    case 8: return f(TypeTag<uint64_t>{});
    default: return unsupported_dtype(dtype);
  }
}

// Calls fn(out_index, offsets) for every element of `out_shape`, where offsets[k] is the
// element offset into input k (shapes `in_shapes`, broadcast to out_shape).
template <class Fn>
void for_each_broadcast(const Shape& out_shape, const std::vector<Shape>& in_shapes, Fn&& fn) {
  const size_t rank = out_shape.size();
  const size_t n_in = in_shapes.size();
  std::vector<std::vector<int64_t>> strides;
  for (const Shape& s : in_shapes) strides.push_back(ops::broadcast_strides(s, out_shape));
  std::vector<int64_t> index(rank, 0);
  std::vector<int64_t> offsets(n_in, 0);
  const int64_t total = shape_numel(out_shape);
  for (int64_t i = 0; i < total; ++i) {
    fn(i, offsets.data());
    // Advance the multi-index, last axis fastest.
    for (size_t d = rank; d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < n_in; ++k) offsets[k] += strides[k][d];
      if (index[d] < out_shape[d]) break;
      for (size_t k = 0; k < n_in; ++k) offsets[k] -= strides[k][d] * index[d];
      index[d] = 0;
    }
  }
}

// Reads element i of an integer or float tensor as int64 (shape inputs, indices, axes).
int64_t read_as_int64(const Tensor& t, int64_t i);
// Reads a 1-D (or scalar) integer tensor into a vector.
std::vector<int64_t> to_int64_vector(const Tensor& t);
// Reads element i of a numeric tensor as double.
double read_as_double(const Tensor& t, int64_t i);

// float32, float64, float16 or bfloat16.
bool is_float_dtype(DType dtype);
// The values of a float tensor (any is_float_dtype) as doubles: kernels that compute in
// double read their inputs with this.
std::vector<double> read_doubles(const Tensor& t);
// Allocates output `index` with a float dtype and shape and writes `values`, rounding once.
Status write_doubles(KernelContext& ctx, size_t index, DType dtype, Shape shape, const std::vector<double>& values);

}  // namespace fulcrum::backends::reference
