// Pooling ops: MaxPool, AveragePool, LpPool, their Global forms, and MaxUnpool.
#pragma once

#include "ops/conv.h"

namespace fulcrum::ops {

struct PoolAttrs : WindowAttrs {
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool (and LpPool from opset 18)
  int64_t storage_order = 0;       // MaxPool Indices: 0 row major, 1 column major
  float p = 2.0f;                  // LpPool, GlobalLpPool
};

}  // namespace fulcrum::ops
