// Ops of no larger family: Unique (set of values or of sub-tensors) and Det (batched
// matrix determinant).
#pragma once

#include <cstdint>
#include <optional>

#include "ops/registry.h"

namespace fulcrum::ops {

struct UniqueAttrs : OpAttrs {
  std::optional<int64_t> axis;  // absent: unique values of the flattened input
  bool sorted = true;           // false: in order of first occurrence
};

// Det has no attributes.

}  // namespace fulcrum::ops
