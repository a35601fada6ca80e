// Softmax, LogSoftmax and Hardmax. Before opset 13 they coerce the input to 2-D,
// [prod(shape[:axis]), prod(shape[axis:])], and work along the second dimension (default
// axis 1); from opset 13 they work along the single axis `axis` (default -1).
#pragma once

#include "ops/registry.h"

namespace fulcrum::ops {

struct SoftmaxAttrs : OpAttrs {
  int64_t axis = -1;
  bool coerce_2d = false;  // opset < 13
};

}  // namespace fulcrum::ops
