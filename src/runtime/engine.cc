#include "fulcrum/engine.h"

#include "backends/executor.h"
#include "core/error.h"
#include "ir/graph.h"
#include "runtime/tensor_desc.h"

namespace fulcrum {
namespace {

class ReferenceEngine;

class ReferenceContext : public ExecutionContext {
 public:
  explicit ReferenceContext(const ReferenceEngine& engine) : engine_(engine) {}
  Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs) override;

 private:
  const ReferenceEngine& engine_;
};

class ReferenceEngine : public Engine {
 public:
  ReferenceEngine(std::shared_ptr<const ir::Graph> graph, std::unique_ptr<backends::Executor> exec)
      : graph_(std::move(graph)), exec_(std::move(exec)) {
    for (const ir::Value* v : graph_->inputs) inputs_.push_back(runtime::describe(*v));
    for (const ir::Value* v : graph_->outputs) outputs_.push_back(runtime::describe(*v));
  }
  std::vector<TensorDesc> inputs() const override { return inputs_; }
  std::vector<TensorDesc> outputs() const override { return outputs_; }
  std::unique_ptr<ExecutionContext> create_execution_context() const override {
    return std::make_unique<ReferenceContext>(*this);
  }
  const backends::Executor& executor() const { return *exec_; }

 private:
  std::shared_ptr<const ir::Graph> graph_;
  std::unique_ptr<backends::Executor> exec_;
  std::vector<TensorDesc> inputs_, outputs_;
};

Result<std::vector<NamedTensor>> ReferenceContext::run(const std::vector<NamedTensor>& inputs) {
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> bound, runtime::bind_inputs(engine_.inputs(), inputs));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> outs, engine_.executor().run(bound));
  std::vector<NamedTensor> named;
  auto descs = engine_.outputs();
  for (size_t i = 0; i < outs.size(); ++i) named.push_back({descs[i].name, std::move(outs[i])});
  return named;
}

}  // namespace

Result<std::unique_ptr<Engine>> Builder::build(const Network& network, const BuilderConfig& config) {
  switch (config.backend) {
    case BackendKind::kReference: {
      if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
      FULCRUM_ASSIGN_OR_RETURN(auto exec, backends::Executor::create(network.graph(), {&backends::reference_backend()},
                                                                     backends::KernelConfig{config.threads}));
      return std::unique_ptr<Engine>(std::make_unique<ReferenceEngine>(network.graph(), std::move(exec)));
    }
  }
  return invalid_argument("unknown backend");
}

}  // namespace fulcrum
