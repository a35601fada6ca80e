// INT8 is a permission, not an order: before lowering, the builder times each INT8-planned
// layer in context — the whole model built once with those layers in FP32 and once in INT8,
// run on one thread on generated inputs of the declared shapes — and keeps FP32 where INT8 is
// not faster
// (small layers whose quantize/dequantize costs more than the INT8 math saves). The times go
// into each layer's precision reason, so `fulcrum inspect` shows what the choice rests on.
#pragma once

#include "fulcrum/engine.h"
#include "ir/graph.h"

namespace fulcrum::runtime {

struct LayerTimingOptions {
  // Timed runs per engine (after one warm-up). A layer's time is its fastest run: on a shared
  // machine the slower runs measure the other processes.
  int runs = 5;
  // INT8 is kept unless it takes more than `max_ratio` x FP32's time plus `slack_ms`: an INT8
  // layer also keeps its neighbours' tensors INT8, which its own time does not show.
  double max_ratio = 1.2;
  double slack_ms = 0.01;
};

// `planned` is the fused graph with the precision plan applied (nodes' precision set), not
// yet lowered. Changes INT8 layers that are slower to FP32 and adds the times to every timed
// layer's reason. Returns how many layers went back to FP32.
Result<int> keep_int8_where_faster(ir::Graph& planned, const BuilderConfig& config,
                                   const LayerTimingOptions& options = {});

}  // namespace fulcrum::runtime
