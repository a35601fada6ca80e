// Runs a graph node by node, each with the kernel of the first backend that takes it.
//
// Memory. Weights: a constant every consumer packed into its own layout at creation is not
// held by the executor (nor by a graph handed over to it), so the model's weights are held
// once. Activations: the first run with a new set of input shapes records each
// intermediate's size, lifetime and aliasing (an output that views an input keeps the
// input's bytes alive), then plans one arena for them (plan/memory_plan.h); later runs with
// those shapes serve every allocate_output* from the arena, allocating nothing. The arena
// and its plans live in an ExecutorState, one per ExecutionContext, so contexts run
// concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends {

class Executor;

// One context's run-time memory: the activation arena and a plan per input signature.
// Not thread-safe: a state serves one run at a time.
class ExecutorState {
 public:
  ExecutorState() = default;
  ExecutorState(const ExecutorState&) = delete;
  ExecutorState& operator=(const ExecutorState&) = delete;

  // The arena's size: the largest plan among the input shapes run so far (0 before a run).
  size_t arena_bytes() const { return arena_bytes_; }
  // Outputs of the last run given heap memory by allocate_output*: every one during a run
  // that records a plan; afterwards only graph outputs (the caller keeps them) and the odd
  // output larger than recorded (a data-dependent shape).
  size_t heap_allocations() const { return heap_allocations_; }
  // Runs that recorded a plan (a new input signature, or aliasing that changed).
  size_t plans_recorded() const { return plans_recorded_; }

  // Called during every run with each graph input, then each output of each step as it is
  // produced (for calibration). The run frees a value after its last reader, so the observer
  // must consume it before returning. A non-OK status ends the run with it. While an observer
  // is set, runs use neither the arena nor its plans (a run repeated after a plan mismatch
  // would show values twice); without one, the cost is a branch per step output.
  using Observer = std::function<Status(const std::string& name, const Tensor& value)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  friend class Executor;
  struct Plan {
    std::vector<int64_t> offsets;  // slot-indexed arena offset, -1: from the heap
    std::vector<size_t> bytes;     // slot-indexed bytes reserved in the arena
    std::vector<int> alias_of;     // slot-indexed input slot an output viewed, -1: none
    size_t arena_bytes = 0;
  };
  using Signature = std::vector<std::pair<DType, Shape>>;

  std::map<Signature, Plan> plans_;
  std::shared_ptr<void> arena_;
  size_t arena_bytes_ = 0;
  size_t heap_allocations_ = 0;
  size_t plans_recorded_ = 0;
  Observer observer_;
};

class Executor {
 public:
  // Asks `backends` in order for each node's kernel. Fails, naming every unsupported op and
  // the nodes that use it, if no backend takes a node. The graph is shared with the
  // caller, so every constant stays in it.
  static Result<std::unique_ptr<Executor>> create(std::shared_ptr<const ir::Graph> graph,
                                                  const std::vector<Backend*>& backends, const KernelConfig& config);
  // The same, owning the graph: a constant that every consumer packed is dropped from it as
  // soon as its last consumer's kernel is made, so building holds at most one extra copy.
  static Result<std::unique_ptr<Executor>> create(std::unique_ptr<ir::Graph> graph,
                                                  const std::vector<Backend*>& backends, const KernelConfig& config);
  // Every node on the reference backend.
  static Result<std::unique_ptr<Executor>> create(std::shared_ptr<const ir::Graph> graph) {
    return create(std::move(graph), {&reference_backend()}, KernelConfig{});
  }

  const std::shared_ptr<const ir::Graph>& graph() const { return graph_; }
  // Which backend runs each node, in execution order (for inspect and tests).
  std::vector<std::pair<const ir::Node*, std::string_view>> placement() const;

  struct WeightInfo {
    size_t model_bytes = 0;     // every constant, as the graph declares it
    size_t constant_bytes = 0;  // constants the executor still holds (some kernel reads them)
    size_t packed_bytes = 0;    // kernels' own packed copies
  };
  WeightInfo weight_info() const;

  // `inputs` are in the graph's input order; returns the graph outputs in order. `state`
  // holds the activation arena; runs on different states may be concurrent.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs, ExecutorState& state) const {
    return run(inputs, state, true);
  }
  // A one-off run (tests, tools): every activation comes from the heap, nothing is planned.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) const {
    ExecutorState state;
    return run(inputs, state, false);
  }

 private:
  struct Step {
    const ir::Node* node;
    std::unique_ptr<Kernel> kernel;
    std::string_view backend;
    std::vector<int> inputs;   // value slots, -1 for omitted
    std::vector<int> outputs;  // value slots, -1 for omitted
    std::vector<int> release;  // slots whose last use is this step
    bool round_fp16 = false;   // FP16 numerics: round the step's float32 outputs to FP16
  };
  class StepAllocator;

  explicit Executor(std::shared_ptr<const ir::Graph> graph) : graph_(std::move(graph)) {}
  static Result<std::unique_ptr<Executor>> create_impl(std::shared_ptr<const ir::Graph> graph, ir::Graph* owned,
                                                       const std::vector<Backend*>& backends,
                                                       const KernelConfig& config);
  Status make_kernels(ir::Graph* owned, const std::vector<Backend*>& backends);
  void plan_lifetimes();
  // Runs every step; with `plan`, serves allocations from the arena and returns false when
  // an output's aliasing departs from the plan (the run's results cannot be trusted).
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs, ExecutorState& state, bool plan_memory) const;
  // `values` is slot-indexed; `alias_of` receives, per output, the input slot it views.
  Result<bool> run_steps(std::vector<Tensor>& values, ExecutorState& state, const ExecutorState::Plan* plan,
                         std::vector<size_t>* recorded_bytes, std::vector<int>& alias_of) const;
  // FP16 numerics: rounds a step's float32 output `out` to FP16. In place where the step
  // allocated it; an output viewing input slot `viewed` (or other memory not the step's own)
  // is replaced by a rounded heap copy unless its values are FP16 already. Returns the slot
  // `out` now views (-1 after a copy).
  int round_output_fp16(Tensor& out, int viewed, const StepAllocator& allocator, ExecutorState& state) const;
  ExecutorState::Plan make_plan(const std::vector<size_t>& recorded_bytes, const std::vector<int>& alias_of) const;
  // Stores `plan` for `signature` and grows the arena to fit it.
  static Status adopt_plan(ExecutorState& state, ExecutorState::Signature signature, ExecutorState::Plan plan);

  std::shared_ptr<const ir::Graph> graph_;
  KernelConfig config_;
  std::vector<Step> steps_;
  std::vector<Tensor> constants_;  // slot-indexed; defined for constant values
  std::vector<bool> packed_;       // slot-indexed: a constant every consumer packed (constants_ holds no bytes)
  std::vector<int> def_step_;      // slot-indexed: the step producing it, -1 for inputs and constants
  std::vector<int> last_use_;      // slot-indexed: the last step reading it, -1 for none
  std::vector<bool> is_output_;    // slot-indexed: a graph output
  std::vector<bool> fp16_exact_;   // slot-indexed, FP16 numerics: every value is an FP16 value
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
};

}  // namespace fulcrum::backends
