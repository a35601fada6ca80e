#include "ops/detection.h"

#include <string>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

void fill_non_max_suppression(AttrReader& r, int64_t, NonMaxSuppressionAttrs& a) {
  const int64_t center = r.i("center_point_box", 0);
  r.check(center == 0 || center == 1, fmt::format("attribute 'center_point_box' must be 0 or 1, got {}", center));
  a.center_point_box = center == 1;
}

void fill_roi_align(AttrReader& r, int64_t opset, RoiAlignAttrs& a) {
  const std::string mode = r.s("mode", "avg");
  r.check(mode == "avg" || mode == "max", fmt::format("attribute 'mode' must be avg or max, got '{}'", mode));
  a.mode = mode == "max" ? RoiPoolMode::kMax : RoiPoolMode::kAvg;
  if (opset >= 16) {
    const std::string ctm = r.s("coordinate_transformation_mode", "half_pixel");
    r.check(ctm == "half_pixel" || ctm == "output_half_pixel",
            fmt::format("attribute 'coordinate_transformation_mode' must be half_pixel or output_half_pixel, got '{}'",
                        ctm));
    a.half_pixel = ctm == "half_pixel";
  }
  a.output_height = r.i("output_height", 1);
  a.output_width = r.i("output_width", 1);
  a.sampling_ratio = r.i("sampling_ratio", 0);
  a.spatial_scale = r.f("spatial_scale", 1.0f);
  r.check(a.output_height > 0 && a.output_width > 0,
          fmt::format("attributes 'output_height' ({}) and 'output_width' ({}) must be positive", a.output_height,
                      a.output_width));
  r.check(a.sampling_ratio >= 0,
          fmt::format("attribute 'sampling_ratio' must not be negative, got {}", a.sampling_ratio));
}

void fill_grid_sample(AttrReader& r, int64_t opset, GridSampleAttrs& a) {
  const bool renamed = opset >= 20;
  const std::string linear = renamed ? "linear" : "bilinear";
  const std::string cubic = renamed ? "cubic" : "bicubic";
  const std::string mode = r.s("mode", linear);
  if (mode == linear)
    a.mode = GridSampleMode::kLinear;
  else if (mode == cubic)
    a.mode = GridSampleMode::kCubic;
  else if (mode == "nearest")
    a.mode = GridSampleMode::kNearest;
  else
    r.check(false, fmt::format("attribute 'mode' must be {}, nearest or {}, got '{}'", linear, cubic, mode));
  const std::string padding = r.s("padding_mode", "zeros");
  if (padding == "border")
    a.padding = GridSamplePadding::kBorder;
  else if (padding == "reflection")
    a.padding = GridSamplePadding::kReflection;
  else
    r.check(padding == "zeros",
            fmt::format("attribute 'padding_mode' must be zeros, border or reflection, got '{}'", padding));
  a.align_corners = r.i("align_corners", 0) != 0;
}

// NonMaxSuppression-11 only clarified the box format of NonMaxSuppression-10.
const OpRegistrar kNonMaxSuppression({"NonMaxSuppression", "", 10, kDataDependentShape,
                                      attr_parser(fill_non_max_suppression)});
const OpRegistrar kRoiAlign({"RoiAlign", "", 10, kNoTraits, attr_parser(fill_roi_align)});
const OpRegistrar kGridSample({"GridSample", "", 16, kNoTraits, attr_parser(fill_grid_sample)});

}  // namespace
}  // namespace fulcrum::ops
