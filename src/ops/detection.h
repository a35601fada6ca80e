// Detection and sampling: NonMaxSuppression, RoiAlign and GridSample.
#pragma once

#include <cstdint>

#include "ops/registry.h"

namespace fulcrum::ops {

struct NonMaxSuppressionAttrs : OpAttrs {
  // false: boxes are [y1, x1, y2, x2] corners (any diagonal pair); true: [x_center, y_center, width, height].
  bool center_point_box = false;
};

enum class RoiPoolMode { kAvg, kMax };

struct RoiAlignAttrs : OpAttrs {
  RoiPoolMode mode = RoiPoolMode::kAvg;
  // coordinate_transformation_mode (opset 16): half_pixel shifts roi corners by -0.5 pixel;
  // output_half_pixel (RoiAlign-10's only behaviour) does not, and forces a roi to be at least 1x1.
  bool half_pixel = false;
  int64_t output_height = 1;
  int64_t output_width = 1;
  int64_t sampling_ratio = 0;  // 0: adaptive, ceil(roi size / output size) samples per bin
  float spatial_scale = 1.0f;
};

// GridSample-16 spells the modes bilinear/bicubic; GridSample-20 renamed them linear/cubic.
enum class GridSampleMode { kLinear, kNearest, kCubic };
enum class GridSamplePadding { kZeros, kBorder, kReflection };

struct GridSampleAttrs : OpAttrs {
  GridSampleMode mode = GridSampleMode::kLinear;
  GridSamplePadding padding = GridSamplePadding::kZeros;
  bool align_corners = false;
};

}  // namespace fulcrum::ops
