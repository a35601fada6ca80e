// Runs a graph node by node with the reference kernels. Intermediate tensors are freed
// after their last use, so peak memory follows the graph's live set.
#pragma once

#include <memory>
#include <vector>

#include "backends/reference/kernel.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends::reference {

class Executor {
 public:
  // Fails, naming every unsupported op and the nodes that use it, if a node has no kernel.
  static Result<std::unique_ptr<Executor>> create(std::shared_ptr<const ir::Graph> graph);

  // `inputs` are in the graph's input order; returns the graph outputs in order.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) const;

 private:
  struct Step {
    const ir::Node* node;
    KernelFn kernel;
    std::vector<int> inputs;   // value slots, -1 for omitted
    std::vector<int> outputs;  // value slots, -1 for omitted
    std::vector<int> release;  // slots whose last use is this step
  };

  explicit Executor(std::shared_ptr<const ir::Graph> graph) : graph_(std::move(graph)) {}

  std::shared_ptr<const ir::Graph> graph_;
  std::vector<Step> steps_;
  std::vector<Tensor> constants_;  // slot-indexed; defined for constant values
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
};

}  // namespace fulcrum::backends::reference
