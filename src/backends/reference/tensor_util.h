// Helpers shared by the reference kernels of the tensor movement ops (tensor_*.cc): strided
// copies that move contiguous runs at once, and validated reads of small int inputs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "backends/reference/kernel.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::backends::reference::tensor_kernels {

// Fills `dst`, dense and row-major over `shape`, from `src`: the element at multi-index idx
// is read from src + sum(idx[d] * src_strides[d]) elements of `elem_size` bytes. Strides may
// be 0 (broadcast) or negative (reversed slices). Axes are merged where the source is
// contiguous across them, and unit-stride innermost runs are copied with memcpy.
void strided_copy(const void* src, const std::vector<int64_t>& src_strides, const Shape& shape, void* dst,
                  size_t elem_size);

// A new tensor holding `in` viewed as `view_shape` (same element count), with its axes
// permuted: output axis d is view axis perm[d]. Transpose, DepthToSpace and SpaceToDepth.
Tensor permute(const Tensor& in, const Shape& view_shape, const std::vector<int64_t>& perm);

// Reads input i, which must be an integer scalar or 1-D tensor, as int64 values; `what`
// names the input in errors ("'shape'").
Result<std::vector<int64_t>> int_list_input(const KernelContext& ctx, size_t i, std::string_view what);

// Reads input i, which must be an integer tensor holding exactly one element.
Result<int64_t> int_scalar_input(const KernelContext& ctx, size_t i, std::string_view what);

bool is_integer(DType dtype);

// A 0-D tensor of `dtype` holding `value` converted as static_cast would (round to nearest
// for float16/bfloat16): constants such as Pad's value attribute or EyeLike's one.
Tensor scalar_of(DType dtype, double value);

}  // namespace fulcrum::backends::reference::tensor_kernels
