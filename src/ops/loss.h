// Loss ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
#pragma once

#include <cstdint>
#include <optional>

#include "ops/registry.h"

namespace fulcrum::ops {

enum class LossReduction { kNone, kSum, kMean };

struct LossAttrs : OpAttrs {
  LossReduction reduction = LossReduction::kMean;
  std::optional<int64_t> ignore_index;  // targets equal to it contribute nothing
};

}  // namespace fulcrum::ops
