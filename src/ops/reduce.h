// Reductions and selections along axes: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/
// SumSquare, ArgMax/ArgMin and TopK.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

// The Reduce* family. Axes are an attribute up to opset 17 (ReduceSum: up to opset 12) and
// the optional second input afterwards; axes_from_input says which form the node's opset uses.
struct ReduceAttrs : OpAttrs {
  std::vector<int64_t> axes;  // from the attribute; empty: all axes (or none, see below)
  bool axes_from_input = false;
  bool keepdims = true;
  // With empty axes: true leaves the input unreduced (each output element is the
  // reduction of one input element), false reduces over every axis.
  bool noop_with_empty_axes = false;
};

// ArgMax, ArgMin.
struct ArgReduceAttrs : OpAttrs {
  int64_t axis = 0;
  bool keepdims = true;
  bool select_last_index = false;  // on ties, the last index instead of the first
};

// TopK: k is an attribute before opset 10 and the second input from opset 10.
struct TopKAttrs : OpAttrs {
  int64_t axis = -1;
  int64_t k = -1;  // opset 1 only
  bool largest = true;
  bool sorted = true;  // unsorted output is allowed to be sorted: the kernel always sorts
};

}  // namespace fulcrum::ops
