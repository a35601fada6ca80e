#include "fulcrum/engine.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/executor.h"
#include "core/error.h"
#include "core/logging.h"
#include "ir/graph.h"
#include "ir/graph_edit.h"
#include "passes/pass.h"
#include "runtime/tensor_desc.h"

namespace fulcrum {
namespace {

class ExecutorEngine;

class ExecutorContext : public ExecutionContext {
 public:
  explicit ExecutorContext(const ExecutorEngine& engine) : engine_(engine) {}
  Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs) override;

 private:
  const ExecutorEngine& engine_;
};

class ExecutorEngine : public Engine {
 public:
  ExecutorEngine(std::shared_ptr<const ir::Graph> graph, std::unique_ptr<backends::Executor> exec)
      : graph_(std::move(graph)), exec_(std::move(exec)) {
    for (const ir::Value* v : graph_->inputs) inputs_.push_back(runtime::describe(*v));
    for (const ir::Value* v : graph_->outputs) outputs_.push_back(runtime::describe(*v));
  }
  std::vector<TensorDesc> inputs() const override { return inputs_; }
  std::vector<TensorDesc> outputs() const override { return outputs_; }
  std::unique_ptr<ExecutionContext> create_execution_context() const override {
    return std::make_unique<ExecutorContext>(*this);
  }
  const backends::Executor& executor() const { return *exec_; }

 private:
  std::shared_ptr<const ir::Graph> graph_;
  std::unique_ptr<backends::Executor> exec_;
  std::vector<TensorDesc> inputs_, outputs_;
};

Result<std::vector<NamedTensor>> ExecutorContext::run(const std::vector<NamedTensor>& inputs) {
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> bound, runtime::bind_inputs(engine_.inputs(), inputs));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> outs, engine_.executor().run(bound));
  std::vector<NamedTensor> named;
  auto descs = engine_.outputs();
  for (size_t i = 0; i < outs.size(); ++i) named.push_back({descs[i].name, std::move(outs[i])});
  return named;
}

}  // namespace

Result<std::unique_ptr<Engine>> Builder::build(const Network& network, const BuilderConfig& config) {
  if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
  std::vector<backends::Backend*> chain;
  switch (config.backend) {
    case BackendKind::kReference: chain = {&backends::reference_backend()}; break;
    case BackendKind::kCpu: chain = {&backends::cpu_backend(), &backends::reference_backend()}; break;
  }
  if (chain.empty()) return invalid_argument("unknown backend");
  // The reference engine runs the graph as imported: it is the oracle the optimized graph
  // is compared against. Every other backend runs the graph after the build passes.
  std::shared_ptr<const ir::Graph> graph = network.graph();
  if (config.backend != BackendKind::kReference) {
    std::unique_ptr<ir::Graph> optimized = ir::clone(*graph);
    passes::PassContext pass_ctx;
    FULCRUM_ASSIGN_OR_RETURN(passes::PassStats stats,
                             passes::run_passes(*optimized, passes::default_fp32_passes(), pass_ctx));
    log_verbose("build passes: {} nodes -> {} in {} rounds", stats.nodes_before, stats.nodes_after, stats.rounds);
    graph = std::move(optimized);
  }
  FULCRUM_ASSIGN_OR_RETURN(auto exec, backends::Executor::create(graph, chain, backends::KernelConfig{config.threads}));
  return std::unique_ptr<Engine>(std::make_unique<ExecutorEngine>(graph, std::move(exec)));
}

}  // namespace fulcrum
