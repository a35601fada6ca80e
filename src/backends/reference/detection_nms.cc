// Reference kernel for NonMaxSuppression. It follows onnxruntime's algorithm, which the
// ONNX tests were made with: per batch and class, candidates above score_threshold are
// visited by descending score (ties: lower box index first) and kept unless their IoU with
// an already kept box of that class is strictly greater than iou_threshold.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/detection.h"

namespace fulcrum::backends::reference {
namespace {

// A box as its sorted extent on each axis, however the input spelled it.
template <class T>
struct Box {
  T x_min, x_max, y_min, y_max;
};

template <class T>
Box<T> read_box(const T* b, bool center_point_box) {
  if (center_point_box) {  // [x_center, y_center, width, height]
    const T half_w = b[2] / T(2), half_h = b[3] / T(2);
    return {b[0] - half_w, b[0] + half_w, b[1] - half_h, b[1] + half_h};
  }
  // [y1, x1, y2, x2]: any diagonal pair of corners, so the coordinates may be flipped.
  return {std::min(b[1], b[3]), std::max(b[1], b[3]), std::min(b[0], b[2]), std::max(b[0], b[2])};
}

template <class T>
bool iou_exceeds(const Box<T>& a, const Box<T>& b, T threshold) {
  const T ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  const T iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (ix_max <= ix_min || iy_max <= iy_min) return false;
  const T intersection = (ix_max - ix_min) * (iy_max - iy_min);
  const T area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const T area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const T union_area = area_a + area_b - intersection;
  if (area_a <= 0 || area_b <= 0 || union_area <= 0) return false;
  return intersection / union_area > threshold;
}

// The optional scalar inputs; an omitted or empty one keeps its default.
struct NmsLimits {
  int64_t max_per_class = 0;
  double iou_threshold = 0.0;
  bool has_score_threshold = false;
  double score_threshold = 0.0;
};

bool has_value(const KernelContext& ctx, size_t i) { return ctx.has_input(i) && ctx.input(i).numel() > 0; }

Result<NmsLimits> read_limits(const KernelContext& ctx) {
  NmsLimits limits;
  if (has_value(ctx, 2)) limits.max_per_class = std::max<int64_t>(read_as_int64(ctx.input(2), 0), 0);
  if (has_value(ctx, 3)) limits.iou_threshold = read_as_double(ctx.input(3), 0);
  if (limits.iou_threshold < 0.0 || limits.iou_threshold > 1.0)
    return invalid_argument("input 'iou_threshold' must be in [0, 1], got {}", limits.iou_threshold);
  if (has_value(ctx, 4)) {
    limits.has_score_threshold = true;
    limits.score_threshold = read_as_double(ctx.input(4), 0);
  }
  return limits;
}

Status check_shapes(const Tensor& boxes, const Tensor& scores) {
  if (boxes.rank() != 3 || boxes.dim(2) != 4)
    return invalid_argument("input 'boxes' must have shape [num_batches, num_boxes, 4], got {}",
                            shape_to_string(boxes.shape()));
  if (scores.rank() != 3 || scores.dim(0) != boxes.dim(0) || scores.dim(2) != boxes.dim(1))
    return invalid_argument("input 'scores' must have shape [num_batches={}, num_classes, num_boxes={}], got {}",
                            boxes.dim(0), boxes.dim(1), shape_to_string(scores.shape()));
  if (boxes.dtype() != scores.dtype())
    return invalid_argument("inputs 'boxes' ({}) and 'scores' ({}) must have the same dtype", dtype_name(boxes.dtype()),
                            dtype_name(scores.dtype()));
  return Status::ok();
}

// The kept box indices of one batch and class, in selection order.
template <class T>
std::vector<int64_t> select_boxes(const std::vector<Box<T>>& boxes, const T* scores, const NmsLimits& limits) {
  // NaN scores sort last, so the comparison stays a strict weak order.
  auto key = [&](int64_t i) { return std::isnan(scores[i]) ? -std::numeric_limits<T>::infinity() : scores[i]; };
  std::vector<int64_t> candidates;
  for (int64_t i = 0; i < static_cast<int64_t>(boxes.size()); ++i)
    if (!limits.has_score_threshold || scores[i] > static_cast<T>(limits.score_threshold)) candidates.push_back(i);
  std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
  std::vector<int64_t> kept;
  const T threshold = static_cast<T>(limits.iou_threshold);
  for (int64_t c : candidates) {
    if (static_cast<int64_t>(kept.size()) >= limits.max_per_class) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int64_t k) {
      return iou_exceeds(boxes[static_cast<size_t>(c)], boxes[static_cast<size_t>(k)], threshold);
    });
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

Status non_max_suppression(KernelContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return invalid_argument("inputs 'boxes' and 'scores' are required");
  const Tensor& boxes = ctx.input(0);
  const Tensor& scores = ctx.input(1);
  FULCRUM_RETURN_IF_ERROR(check_shapes(boxes, scores));
  FULCRUM_ASSIGN_OR_RETURN(NmsLimits limits, read_limits(ctx));
  const bool center = ctx.attrs<ops::NonMaxSuppressionAttrs>().center_point_box;
  const int64_t batches = boxes.dim(0), num_boxes = boxes.dim(1), classes = scores.dim(1);
  std::vector<int64_t> selected;  // (batch, class, box) triples
  FULCRUM_RETURN_IF_ERROR(visit_float(boxes.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t b = 0; b < batches; ++b) {
      std::vector<Box<T>> batch_boxes;
      for (int64_t i = 0; i < num_boxes; ++i)
        batch_boxes.push_back(read_box(boxes.data<T>() + (b * num_boxes + i) * 4, center));
      for (int64_t c = 0; c < classes; ++c) {
        const T* class_scores = scores.data<T>() + (b * classes + c) * num_boxes;
        for (int64_t box : select_boxes(batch_boxes, class_scores, limits))
          selected.insert(selected.end(), {b, c, box});
      }
    }
    return Status::ok();
  }));
  Tensor& out = ctx.allocate_output(0, DType::kInt64, {static_cast<int64_t>(selected.size() / 3), 3});
  std::copy(selected.begin(), selected.end(), out.mutable_data<int64_t>());
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(NonMaxSuppression, non_max_suppression);

}  // namespace
}  // namespace fulcrum::backends::reference
