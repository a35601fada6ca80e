// Output-shape arithmetic of the tensor movement ops (ops/tensor.h), following the ONNX
// spec. Kernels of every backend and shape inference share these, so "what shape does
// Reshape produce" has one answer. Errors name the attribute or input at fault.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::ops {

// Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred.
Result<Shape> reshape_output_shape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero);

// Flatten to 2-D around `axis` in [-rank, rank].
Result<Shape> flatten_output_shape(const Shape& in, int64_t axis);

// Squeeze: drops the listed axes (which must have size 1), or every size-1 axis.
Result<Shape> squeeze_output_shape(const Shape& in, const std::optional<std::vector<int64_t>>& axes);

// Unsqueeze: inserts size-1 axes; `axes` index the output.
Result<Shape> unsqueeze_output_shape(const Shape& in, const std::vector<int64_t>& axes);

// Transpose's permutation: validated, or the reversed axes when absent.
Result<std::vector<int64_t>> transpose_perm(int64_t rank, const std::optional<std::vector<int64_t>>& perm);

// Split's part sizes along an axis of size `dim`: the given sizes (which must sum to dim),
// or `count` parts as equal as possible (the last one smaller).
Result<std::vector<int64_t>> split_sizes(int64_t dim, const std::optional<std::vector<int64_t>>& split, int64_t count);

// One axis of a Slice: the first element taken, the step, and how many are taken.
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

// Slice per axis, with ONNX clamping (ends beyond the dimension, INT64_MAX, negative steps).
// Axes not listed take everything. `axes` and `steps` may be empty for the defaults.
Result<std::vector<SliceRange>> slice_ranges(const Shape& in, const std::vector<int64_t>& starts,
                                             const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                             const std::vector<int64_t>& steps);

// Pad amounts per axis (begin, end; negative crops) from ONNX's
// [x1_begin, x2_begin, ..., x1_end, x2_end, ...] layout over `axes` (empty: all axes).
struct PadAmount {
  int64_t begin = 0;
  int64_t end = 0;
};
Result<std::vector<PadAmount>> pad_amounts(int64_t rank, const std::vector<int64_t>& pads,
                                           const std::vector<int64_t>& axes);

// Shape's start/end (opset 15), clamped into [0, rank]; returns {start, end}.
std::pair<int64_t, int64_t> shape_op_range(int64_t rank, int64_t start, std::optional<int64_t> end);

// Number of elements Range produces: max(ceil((limit - start) / delta), 0), delta != 0.
// Integer ranges are counted exactly; float ones in double. Errors for a zero delta or a
// count that is not finite.
Result<int64_t> range_count_int(int64_t start, int64_t limit, int64_t delta);
Result<int64_t> range_count_float(double start, double limit, double delta);

}  // namespace fulcrum::ops
