// Graph optimization passes: the Pass interface and a driver that runs a list of passes to a
// fixed point, verifying the graph after each one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::passes {

struct PassContext {
  bool verbose = false;  // log each pass that changed the graph
  // What each pass did, by pass name ("folded", "removed"...), summed over rounds. Passes
  // add to it through count(); run_passes logs it when verbose.
  std::map<std::string, std::map<std::string, int64_t>> counters;
  void count(std::string_view pass, std::string_view what, int64_t n = 1) {
    counters[std::string(pass)][std::string(what)] += n;
  }
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  // Rewrites the graph in place; true when it changed anything. Pointers into the graph may
  // be invalidated (passes that remove nodes rebuild it).
  virtual Result<bool> run(ir::Graph& graph, PassContext& ctx) = 0;
};

struct PassStats {
  int rounds = 0;  // rounds run (the last one changed nothing, unless capped)
  bool reached_fixed_point = false;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
  std::map<std::string, int> changes;  // pass name -> rounds in which it changed the graph
};

// Runs `passes` in order, repeatedly, until a whole round changes nothing or `max_rounds`
// rounds have run. The graph is verified after every pass that changed it; a pass that
// breaks it is an internal error naming the pass.
Result<PassStats> run_passes(ir::Graph& graph, const std::vector<std::unique_ptr<Pass>>& passes, PassContext& ctx,
                             int max_rounds = 10);

// The FP32 build pipeline: identity removal, constant/shape folding, BatchNorm folding,
// dead-node removal.
std::vector<std::unique_ptr<Pass>> default_fp32_passes();

// Fusions that hold for any backend (each fused op has a reference kernel, its oracle):
// conv/gemm/matmul + epilogue, LayerNorm, GELU, attention. Run after default_fp32_passes.
std::vector<std::unique_ptr<Pass>> fusion_passes();

// The CPU backend's layout choices (blocked activations between convolutions) and the
// fusions that depend on them (pointwise + depthwise convolution), run last: they rewrite
// ops into the CPU backend's internal layout-aware forms.
std::vector<std::unique_ptr<Pass>> cpu_layout_passes();

}  // namespace fulcrum::passes
