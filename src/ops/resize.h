// Resampling: Resize (opset 10, 11, 13) and its predecessor Upsample (opset 7, 9).
#pragma once

#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

enum class ResizeMode { kNearest, kLinear, kCubic };

// How an output coordinate maps back to an input coordinate (see the Resize spec).
enum class CoordinateTransform {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,  // opset 11 only
  kTfCropAndResize,
};

// How mode=nearest rounds the input coordinate.
enum class NearestMode {
  kRoundPreferFloor,
  kRoundPreferCeil,
  kFloor,
  kCeil,
  // Resize-10 and Upsample predate nearest_mode: they floor when an axis grows and ceil when
  // it shrinks, which is what their conformance data and onnxruntime do.
  kLegacy,
};

// Resize and Upsample. Upsample and Resize-10 are Resize with asymmetric coordinates and
// the legacy nearest rounding.
struct ResizeAttrs : OpAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  CoordinateTransform transform = CoordinateTransform::kHalfPixel;
  NearestMode nearest_mode = NearestMode::kRoundPreferFloor;
  float cubic_coeff_a = -0.75f;
  bool exclude_outside = false;
  float extrapolation_value = 0.0f;
  std::vector<float> scales;  // Upsample-7's scales attribute; later opsets take an input
};

}  // namespace fulcrum::ops
