// Signal processing: the window generators (BlackmanWindow, HammingWindow, HannWindow),
// DFT, STFT and MelWeightMatrix. Complex tensors are real tensors with a trailing
// dimension of 2 (real, imaginary); a trailing 1 marks a real signal.
#pragma once

#include <cstdint>

#include "fulcrum/tensor.h"
#include "ops/registry.h"

namespace fulcrum::ops {

// BlackmanWindow, HammingWindow, HannWindow.
struct WindowAttrs : OpAttrs {
  bool periodic = true;  // false: symmetric, the window's last point equals its first
  DType output_dtype = DType::kFloat32;
};

struct DFTAttrs : OpAttrs {
  bool inverse = false;
  bool onesided = false;
  int64_t axis = 1;  // DFT-17's attribute; DFT-20 takes the axis as input 2 (default -2)
};

struct STFTAttrs : OpAttrs {
  bool onesided = true;
};

struct MelWeightMatrixAttrs : OpAttrs {
  DType output_dtype = DType::kFloat32;
};

}  // namespace fulcrum::ops
