#include "ops/tensor_shape.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

// Normalises `axis` into [0, rank) for an op, naming what the axis belongs to.
Result<int64_t> axis_in(int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank) return invalid_argument("{} {} is out of range for rank {}", what, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

// Product of dims, or -1 when it does not fit in int64.
int64_t checked_product(const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

}  // namespace

Result<Shape> reshape_output_shape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero) {
  Shape out;
  int64_t infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      if (infer_at >= 0) return invalid_argument("shape {} has more than one -1", shape_to_string(spec));
      infer_at = static_cast<int64_t>(i);
      out.push_back(1);
    } else if (d == 0 && !allowzero) {
      if (i >= in.size())
        return invalid_argument("shape {}: 0 at index {} copies an input dimension, but the input {} has rank {}",
                                shape_to_string(spec), i, shape_to_string(in), in.size());
      out.push_back(in[i]);
    } else if (d < 0) {
      return invalid_argument("shape {} has an invalid dimension {}", shape_to_string(spec), d);
    } else {
      has_zero = has_zero || d == 0;
      out.push_back(d);
    }
  }
  if (allowzero && has_zero && infer_at >= 0)
    return invalid_argument("shape {} holds both 0 and -1, which allowzero=1 forbids", shape_to_string(spec));
  const int64_t in_numel = shape_numel(in);
  const int64_t known = checked_product(out);
  if (known < 0) return invalid_argument("shape {} has too many elements", shape_to_string(spec));
  if (infer_at >= 0) {
    if (known == 0 || in_numel % known != 0)
      return invalid_argument("cannot infer the -1 in shape {} for an input of shape {}", shape_to_string(spec),
                              shape_to_string(in));
    out[static_cast<size_t>(infer_at)] = in_numel / known;
  } else if (known != in_numel) {
    return invalid_argument("cannot reshape an input of shape {} ({} elements) to shape {} ({} elements)",
                            shape_to_string(in), in_numel, shape_to_string(out), known);
  }
  return out;
}

Result<Shape> flatten_output_shape(const Shape& in, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (axis < -rank || axis > rank)
    return invalid_argument("attribute 'axis' {} is out of range for rank {}", axis, rank);
  if (axis < 0) axis += rank;
  Shape outer(in.begin(), in.begin() + axis);
  Shape inner(in.begin() + axis, in.end());
  return Shape{shape_numel(outer), shape_numel(inner)};
}

Result<Shape> squeeze_output_shape(const Shape& in, const std::optional<std::vector<int64_t>>& axes) {
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> drop(in.size(), false);
  if (!axes) {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  } else {
    for (int64_t a : *axes) {
      FULCRUM_ASSIGN_OR_RETURN(int64_t axis, axis_in(a, rank, "squeeze axis"));
      if (in[static_cast<size_t>(axis)] != 1)
        return invalid_argument("cannot squeeze axis {} of size {} (input shape {})", a, in[static_cast<size_t>(axis)],
                                shape_to_string(in));
      drop[static_cast<size_t>(axis)] = true;
    }
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out.push_back(in[i]);
  return out;
}

Result<Shape> unsqueeze_output_shape(const Shape& in, const std::vector<int64_t>& axes) {
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    FULCRUM_ASSIGN_OR_RETURN(int64_t axis, axis_in(a, out_rank, "unsqueeze axis"));
    if (inserted[static_cast<size_t>(axis)])
      return invalid_argument("unsqueeze axes {} repeat axis {}", shape_to_string(axes), axis);
    inserted[static_cast<size_t>(axis)] = true;
  }
  Shape out;
  size_t next = 0;
  for (size_t i = 0; i < inserted.size(); ++i) out.push_back(inserted[i] ? 1 : in[next++]);
  return out;
}

Result<std::vector<int64_t>> transpose_perm(int64_t rank, const std::optional<std::vector<int64_t>>& perm) {
  std::vector<int64_t> p(static_cast<size_t>(rank));
  if (!perm) {
    for (int64_t i = 0; i < rank; ++i) p[static_cast<size_t>(i)] = rank - 1 - i;
    return p;
  }
  if (static_cast<int64_t>(perm->size()) != rank)
    return invalid_argument("attribute 'perm' {} has {} entries for an input of rank {}", shape_to_string(*perm),
                            perm->size(), rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t a : *perm) {
    if (a < 0 || a >= rank || seen[static_cast<size_t>(a)])
      return invalid_argument("attribute 'perm' {} is not a permutation of the {} axes", shape_to_string(*perm), rank);
    seen[static_cast<size_t>(a)] = true;
  }
  return *perm;
}

Result<std::vector<int64_t>> split_sizes(int64_t dim, const std::optional<std::vector<int64_t>>& split, int64_t count) {
  if (split) {
    int64_t sum = 0;
    for (int64_t s : *split) {
      if (s < 0) return invalid_argument("split sizes {} contain a negative size", shape_to_string(*split));
      sum += s;
    }
    if (sum != dim)
      return invalid_argument("split sizes {} sum to {}, but the split axis has size {}", shape_to_string(*split), sum,
                              dim);
    if (static_cast<int64_t>(split->size()) != count)
      return invalid_argument("split sizes {} give {} parts, but the node has {} outputs", shape_to_string(*split),
                              split->size(), count);
    return *split;
  }
  if (count <= 0) return invalid_argument("cannot split into {} parts", count);
  // Uneven sizes: ceil(dim / count) each, the remainder last (ONNX opset 18 semantics,
  // which the ONNX reference implementation applies to earlier opsets too).
  const int64_t chunk = (dim + count - 1) / count;
  const int64_t last = dim - chunk * (count - 1);
  if (last < 0) return invalid_argument("cannot split an axis of size {} into {} parts", dim, count);
  std::vector<int64_t> sizes(static_cast<size_t>(count), chunk);
  sizes.back() = last;
  return sizes;
}

Result<std::vector<SliceRange>> slice_ranges(const Shape& in, const std::vector<int64_t>& starts,
                                             const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                             const std::vector<int64_t>& steps) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (starts.size() != ends.size())
    return invalid_argument("'starts' has {} entries but 'ends' has {}", starts.size(), ends.size());
  if (!axes.empty() && axes.size() != starts.size())
    return invalid_argument("'axes' has {} entries but 'starts' has {}", axes.size(), starts.size());
  if (!steps.empty() && steps.size() != starts.size())
    return invalid_argument("'steps' has {} entries but 'starts' has {}", steps.size(), starts.size());
  std::vector<SliceRange> out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = SliceRange{0, 1, in[i]};
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    FULCRUM_ASSIGN_OR_RETURN(int64_t axis,
                             axis_in(axes.empty() ? static_cast<int64_t>(i) : axes[i], rank, "slice axis"));
    if (seen[static_cast<size_t>(axis)]) return invalid_argument("slice 'axes' repeat axis {}", axis);
    seen[static_cast<size_t>(axis)] = true;
    const int64_t step = steps.empty() ? 1 : steps[i];
    if (step == 0) return invalid_argument("slice step for axis {} is 0", axis);
    const int64_t dim = in[static_cast<size_t>(axis)];
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count = 0;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > s) count = (e - s - 1) / step + 1;
    } else if (dim > 0) {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      const int64_t magnitude =
          step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
      if (s > e) count = (s - e - 1) / magnitude + 1;
    }
    out[static_cast<size_t>(axis)] = SliceRange{count > 0 ? s : 0, step, count};
  }
  return out;
}

Result<std::vector<PadAmount>> pad_amounts(int64_t rank, const std::vector<int64_t>& pads,
                                           const std::vector<int64_t>& axes) {
  std::vector<int64_t> which;
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) which.push_back(i);
  } else {
    for (int64_t a : axes) {
      FULCRUM_ASSIGN_OR_RETURN(int64_t axis, axis_in(a, rank, "pad axis"));
      if (std::find(which.begin(), which.end(), axis) != which.end())
        return invalid_argument("pad 'axes' repeat axis {}", axis);
      which.push_back(axis);
    }
  }
  if (pads.size() != 2 * which.size())
    return invalid_argument("'pads' has {} entries; {} axes need {}", pads.size(), which.size(), 2 * which.size());
  std::vector<PadAmount> out(static_cast<size_t>(rank));
  for (size_t i = 0; i < which.size(); ++i)
    out[static_cast<size_t>(which[i])] = PadAmount{pads[i], pads[i + which.size()]};
  return out;
}

std::pair<int64_t, int64_t> shape_op_range(int64_t rank, int64_t start, std::optional<int64_t> end) {
  auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t s = clamp(start);
  const int64_t e = end ? clamp(*end) : rank;
  return {s, std::max(s, e)};
}

Result<int64_t> range_count_int(int64_t start, int64_t limit, int64_t delta) {
  if (delta == 0) return invalid_argument("Range input 'delta' is 0");
  const __int128 diff = static_cast<__int128>(limit) - start;
  if (diff == 0 || (diff > 0) != (delta > 0)) return int64_t{0};
  const __int128 d = delta > 0 ? delta : -static_cast<__int128>(delta);
  const __int128 n = ((diff > 0 ? diff : -diff) + d - 1) / d;
  return static_cast<int64_t>(n);
}

Result<int64_t> range_count_float(double start, double limit, double delta) {
  if (delta == 0) return invalid_argument("Range input 'delta' is 0");
  const double n = std::ceil((limit - start) / delta);
  if (!std::isfinite(n) || n > 9.0e18)
    return invalid_argument("Range({}, {}, {}) does not have a finite element count", start, limit, delta);
  return n > 0 ? static_cast<int64_t>(n) : int64_t{0};
}

}  // namespace fulcrum::ops
