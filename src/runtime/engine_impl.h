// The two halves of Builder::build, for the engine file (build once, load many times):
// optimize() runs the build passes for a backend; create_engine() creates the kernels of an
// optimized graph (packing weights) and returns a runnable engine.
#pragma once

#include <memory>

#include "fulcrum/engine.h"
#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::runtime {

// A copy of `graph` after the build passes for config.backend. The reference backend keeps
// the graph as imported (it is the oracle the optimized graph is compared against).
Result<std::unique_ptr<ir::Graph>> optimize(const ir::Graph& graph, const BuilderConfig& config);

// Whether the config asks for anything but FP32 (then even the reference backend builds:
// it runs the quantized layers' reference kernels, the oracle of the CPU's INT8 kernels).
bool lowers_precision(const BuilderConfig& config);

// An engine that runs `graph` (already optimized) on config's backends.
Result<std::unique_ptr<Engine>> create_engine(std::shared_ptr<const ir::Graph> graph, const BuilderConfig& config);
// The same, owning the graph: the engine drops from it each weight its kernels packed, so
// the weights are held once (packed). Serialize the graph before handing it over.
Result<std::unique_ptr<Engine>> create_engine(std::unique_ptr<ir::Graph> graph, const BuilderConfig& config);

}  // namespace fulcrum::runtime
