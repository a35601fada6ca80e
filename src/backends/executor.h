// Runs a graph node by node, each with the kernel of the first backend that takes it.
// Intermediate tensors are freed after their last use, so peak memory follows the graph's
// live set.
#pragma once

#include <memory>
#include <vector>

#include "backends/backend.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends {

class Executor {
 public:
  // Asks `backends` in order for each node's kernel. Fails, naming every unsupported op and
  // the nodes that use it, if no backend takes a node.
  static Result<std::unique_ptr<Executor>> create(std::shared_ptr<const ir::Graph> graph,
                                                  const std::vector<Backend*>& backends, const KernelConfig& config);
  // Every node on the reference backend.
  static Result<std::unique_ptr<Executor>> create(std::shared_ptr<const ir::Graph> graph) {
    return create(std::move(graph), {&reference_backend()}, KernelConfig{});
  }

  // Which backend runs each node, in execution order (for inspect and tests).
  std::vector<std::pair<const ir::Node*, std::string_view>> placement() const;

  // `inputs` are in the graph's input order; returns the graph outputs in order.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) const;

 private:
  struct Step {
    const ir::Node* node;
    std::unique_ptr<Kernel> kernel;
    std::string_view backend;
    std::vector<int> inputs;   // value slots, -1 for omitted
    std::vector<int> outputs;  // value slots, -1 for omitted
    std::vector<int> release;  // slots whose last use is this step
  };

  explicit Executor(std::shared_ptr<const ir::Graph> graph) : graph_(std::move(graph)) {}

  std::shared_ptr<const ir::Graph> graph_;
  KernelConfig config_;
  std::vector<Step> steps_;
  std::vector<Tensor> constants_;  // slot-indexed; defined for constant values
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
};

}  // namespace fulcrum::backends
