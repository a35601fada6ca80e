// Shape arithmetic shared by shape inference and kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::ops {

// Numpy-style multidirectional broadcasting of any number of shapes.
Result<Shape> broadcast_shapes(const std::vector<Shape>& shapes);

// Maps a possibly negative axis into [0, rank); errors when out of range.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank);

// Python-style floor division (ONNX's pad and output-size formulas assume it for negative
// numerators); b must be positive or negative, never 0.
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Row-major strides (in elements) of a shape.
std::vector<int64_t> strides_of(const Shape& shape);

// Strides of `in` broadcast to `out` (right-aligned; 0 where `in` is broadcast).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

}  // namespace fulcrum::ops
