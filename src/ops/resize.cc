#include "ops/resize.h"

#include <string>

namespace fulcrum::ops {
namespace {

ResizeMode read_mode(AttrReader& r, bool cubic_allowed) {
  const std::string s = r.s("mode", "nearest");
  if (s == "nearest") return ResizeMode::kNearest;
  // "bilinear" is how some Upsample exporters spell linear.
  if (s == "linear" || s == "bilinear") return ResizeMode::kLinear;
  if (s == "cubic" && cubic_allowed) return ResizeMode::kCubic;
  r.check(false, "attribute 'mode' must be nearest, linear" + std::string(cubic_allowed ? " or cubic" : "") +
                     ", got '" + s + "'");
  return ResizeMode::kNearest;
}

CoordinateTransform read_transform(AttrReader& r, int64_t opset) {
  const std::string s = r.s("coordinate_transformation_mode", "half_pixel");
  if (s == "half_pixel") return CoordinateTransform::kHalfPixel;
  if (s == "pytorch_half_pixel") return CoordinateTransform::kPytorchHalfPixel;
  if (s == "align_corners") return CoordinateTransform::kAlignCorners;
  if (s == "asymmetric") return CoordinateTransform::kAsymmetric;
  if (s == "tf_crop_and_resize") return CoordinateTransform::kTfCropAndResize;
  if (s == "tf_half_pixel_for_nn" && opset < 13) return CoordinateTransform::kTfHalfPixelForNn;
  r.check(false, "attribute 'coordinate_transformation_mode' has an unsupported value '" + s + "'");
  return CoordinateTransform::kHalfPixel;
}

NearestMode read_nearest_mode(AttrReader& r) {
  const std::string s = r.s("nearest_mode", "round_prefer_floor");
  if (s == "round_prefer_floor") return NearestMode::kRoundPreferFloor;
  if (s == "round_prefer_ceil") return NearestMode::kRoundPreferCeil;
  if (s == "floor") return NearestMode::kFloor;
  if (s == "ceil") return NearestMode::kCeil;
  r.check(false,
          "attribute 'nearest_mode' must be round_prefer_floor, round_prefer_ceil, floor or ceil, got '" + s + "'");
  return NearestMode::kRoundPreferFloor;
}

void fill_resize(AttrReader& r, int64_t opset, ResizeAttrs& a) {
  a.mode = read_mode(r, opset >= 11);
  if (opset < 11) {
    a.transform = CoordinateTransform::kAsymmetric;
    a.nearest_mode = NearestMode::kLegacy;
    return;
  }
  a.transform = read_transform(r, opset);
  a.nearest_mode = read_nearest_mode(r);
  a.cubic_coeff_a = r.f("cubic_coeff_a", -0.75f);
  a.exclude_outside = r.i("exclude_outside", 0) != 0;
  a.extrapolation_value = r.f("extrapolation_value", 0.0f);
}

void fill_upsample(AttrReader& r, int64_t opset, ResizeAttrs& a) {
  a.mode = read_mode(r, false);
  a.transform = CoordinateTransform::kAsymmetric;
  a.nearest_mode = NearestMode::kLegacy;
  if (opset < 9) {
    r.require("scales");
    a.scales = r.floats("scales");
  }
}

const OpRegistrar kResize({"Resize", "", 10, kNoTraits, attr_parser(fill_resize)});
const OpRegistrar kUpsample({"Upsample", "", 7, kNoTraits, attr_parser(fill_upsample)});

}  // namespace
}  // namespace fulcrum::ops
