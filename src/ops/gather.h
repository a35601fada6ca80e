// Indexing: Gather, GatherElements, GatherND and their inverses ScatterElements (and its
// deprecated alias Scatter) and ScatterND.
#pragma once

#include <cstdint>

#include "ops/registry.h"

namespace fulcrum::ops {

// Gather, GatherElements.
struct GatherAttrs : OpAttrs {
  int64_t axis = 0;
};

struct GatherNDAttrs : OpAttrs {
  int64_t batch_dims = 0;
};

// How a scatter combines an update with the value already at its position: none (replace,
// opset 11+), add and mul (opset 16+), max and min (opset 18+).
enum class ScatterReduction { kNone, kAdd, kMul, kMax, kMin };

// ScatterElements, Scatter.
struct ScatterElementsAttrs : OpAttrs {
  int64_t axis = 0;
  ScatterReduction reduction = ScatterReduction::kNone;
};

struct ScatterNDAttrs : OpAttrs {
  ScatterReduction reduction = ScatterReduction::kNone;
};

}  // namespace fulcrum::ops
