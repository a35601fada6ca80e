// Index handling shared by the gather and scatter kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::backends::reference {

// The elements of an int32 or int64 index tensor ("input 'indices' must be ..." otherwise).
Result<std::vector<int64_t>> read_indices(const Tensor& t);
// Maps a possibly negative index into [0, extent); an error names the index, axis and size.
Result<int64_t> resolve_index(int64_t index, int64_t extent, int64_t axis);
// Resolves every index of one axis in place.
Status resolve_indices(std::vector<int64_t>& indices, int64_t extent, int64_t axis);
// Advances a row-major multi-index over `shape` by one element.
void advance(std::vector<int64_t>& index, const Shape& shape);

}  // namespace fulcrum::backends::reference
