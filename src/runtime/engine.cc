#include "fulcrum/engine.h"

#include <set>

#include "backends/cpu/cpu_backend.h"
#include "backends/executor.h"
#include "core/error.h"
#include "core/logging.h"
#include "ir/graph.h"
#include "ir/graph_edit.h"
#include "passes/fp16_safety.h"
#include "passes/import_qdq.h"
#include "passes/lower_fp16.h"
#include "passes/lower_int8.h"
#include "passes/pass.h"
#include "passes/plan_precision.h"
#include "runtime/engine_impl.h"
#include "runtime/int8_scales.h"
#include "runtime/precision_timing.h"
#include "runtime/tensor_desc.h"

namespace fulcrum {
namespace {

class ExecutorEngine;

class ExecutorContext : public ExecutionContext {
 public:
  explicit ExecutorContext(const ExecutorEngine& engine) : engine_(engine) {}
  Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs) override;
  size_t activation_arena_bytes() const override { return state_.arena_bytes(); }
  Status set_tensor_observer(TensorObserver observer) override {
    state_.set_observer(std::move(observer));
    return Status::ok();
  }

 private:
  const ExecutorEngine& engine_;
  backends::ExecutorState state_;  // this context's activation arena
};

class ExecutorEngine : public Engine {
 public:
  explicit ExecutorEngine(std::unique_ptr<backends::Executor> exec) : exec_(std::move(exec)) {
    for (const ir::Value* v : exec_->graph()->inputs) inputs_.push_back(runtime::describe(*v));
    for (const ir::Value* v : exec_->graph()->outputs) outputs_.push_back(runtime::describe(*v));
  }
  std::vector<TensorDesc> inputs() const override { return inputs_; }
  std::vector<TensorDesc> outputs() const override { return outputs_; }
  std::unique_ptr<ExecutionContext> create_execution_context() const override {
    return std::make_unique<ExecutorContext>(*this);
  }
  EngineMemoryInfo memory_info() const override {
    const backends::Executor::WeightInfo w = exec_->weight_info();
    return {w.model_bytes, w.constant_bytes, w.packed_bytes};
  }
  std::vector<EngineLayer> layers() const override {
    std::vector<EngineLayer> out;
    for (const auto& [node, backend] : exec_->placement())
      out.push_back(
          {node->name, node->op_type, node->domain, std::string(backend), node->precision, node->precision_reason});
    return out;
  }
  const backends::Executor& executor() const { return *exec_; }

 private:
  std::unique_ptr<backends::Executor> exec_;  // owns the graph its kernels point into
  std::vector<TensorDesc> inputs_, outputs_;
};

Result<std::vector<NamedTensor>> ExecutorContext::run(const std::vector<NamedTensor>& inputs) {
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> bound, runtime::bind_inputs(engine_.inputs(), inputs));
  FULCRUM_ASSIGN_OR_RETURN(std::vector<Tensor> outs, engine_.executor().run(bound, state_));
  std::vector<NamedTensor> named;
  auto descs = engine_.outputs();
  for (size_t i = 0; i < outs.size(); ++i) named.push_back({descs[i].name, std::move(outs[i])});
  return named;
}

}  // namespace

}  // namespace fulcrum

namespace fulcrum::runtime {

bool lowers_precision(const BuilderConfig& c) {
  return c.fp16 || c.int8 || (c.precision_constraints != PrecisionConstraints::kNone && !c.layer_precisions.empty());
}

namespace {

// The precision plan, the timing that keeps FP32 where INT8 is not faster, and the INT8
// lowering. `explicit_int8` are the layers a Q/DQ model quantized.
Status plan_precisions(ir::Graph& graph, const BuilderConfig& config, std::set<std::string> explicit_int8,
                       passes::PassContext& ctx) {
  passes::PrecisionPlanOptions o;
  o.fp16 = config.fp16;
  o.int8 = config.int8;
  o.requests = config.layer_precisions;
  o.constraints = config.precision_constraints;
  o.explicit_int8 = std::move(explicit_int8);
  o.fp16_rule = [](const ir::Graph& g, const ir::Node& n) {
    const passes::Fp16Verdict v = passes::fp16_verdict(g, n);
    return passes::Fp16Check{v.safe, v.reason};
  };
  std::vector<std::unique_ptr<passes::Pass>> plan;
  plan.push_back(std::make_unique<passes::PlanPrecision>(std::move(o)));
  FULCRUM_RETURN_IF_ERROR(passes::run_passes(graph, plan, ctx).status());
  if (config.int8_timing) FULCRUM_RETURN_IF_ERROR(keep_int8_where_faster(graph, config).status());
  std::vector<std::unique_ptr<passes::Pass>> lower;
  lower.push_back(std::make_unique<passes::LowerInt8>());
  lower.push_back(std::make_unique<passes::LowerFp16>());
  return passes::run_passes(graph, lower, ctx).status();
}

}  // namespace

Result<std::unique_ptr<ir::Graph>> optimize(const ir::Graph& graph, const BuilderConfig& config) {
  std::unique_ptr<ir::Graph> optimized = ir::clone(graph);
  const bool reference = config.backend == BackendKind::kReference;
  if (reference && !lowers_precision(config)) return optimized;
  passes::PassContext pass_ctx;
  const size_t imported = optimized->nodes().size();
  // A Q/DQ model's quantization becomes scales and INT8 requests (before constant folding
  // folds its weights' DequantizeLinear away).
  if (passes::has_qdq_nodes(*optimized)) {
    std::vector<std::unique_ptr<passes::Pass>> import;
    import.push_back(passes::make_import_qdq_pass());
    FULCRUM_RETURN_IF_ERROR(passes::run_passes(*optimized, import, pass_ctx).status());
  }
  std::set<std::string> explicit_int8;
  for (const auto& n : optimized->nodes())
    if (n->precision == Precision::kInt8) explicit_int8.insert(n->name);
  FULCRUM_RETURN_IF_ERROR(attach_int8_scales(*optimized, config));
  // The reference backend keeps the graph as imported (the oracle), only quantized.
  if (!reference) {
    FULCRUM_RETURN_IF_ERROR(passes::run_passes(*optimized, passes::default_fp32_passes(), pass_ctx).status());
    FULCRUM_RETURN_IF_ERROR(passes::run_passes(*optimized, passes::fusion_passes(), pass_ctx).status());
  }
  FULCRUM_RETURN_IF_ERROR(plan_precisions(*optimized, config, std::move(explicit_int8), pass_ctx));
  if (config.backend == BackendKind::kCpu)
    FULCRUM_RETURN_IF_ERROR(passes::run_passes(*optimized, passes::cpu_layout_passes(), pass_ctx).status());
  log_verbose("build passes: {} nodes -> {}", imported, optimized->nodes().size());
  return optimized;
}

namespace {

Result<std::vector<backends::Backend*>> backend_chain(const BuilderConfig& config) {
  if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
  switch (config.backend) {
    case BackendKind::kReference: return std::vector<backends::Backend*>{&backends::reference_backend()};
    case BackendKind::kCpu:
      return std::vector<backends::Backend*>{&backends::cpu_backend(), &backends::reference_backend()};
  }
  return invalid_argument("unknown backend");
}

}  // namespace

Result<std::unique_ptr<Engine>> create_engine(std::shared_ptr<const ir::Graph> graph, const BuilderConfig& config) {
  FULCRUM_ASSIGN_OR_RETURN(auto chain, backend_chain(config));
  FULCRUM_ASSIGN_OR_RETURN(auto exec,
                           backends::Executor::create(std::move(graph), chain,
                                                      backends::KernelConfig{config.threads, config.fp16_numerics}));
  return std::unique_ptr<Engine>(std::make_unique<ExecutorEngine>(std::move(exec)));
}

Result<std::unique_ptr<Engine>> create_engine(std::unique_ptr<ir::Graph> graph, const BuilderConfig& config) {
  FULCRUM_ASSIGN_OR_RETURN(auto chain, backend_chain(config));
  FULCRUM_ASSIGN_OR_RETURN(auto exec,
                           backends::Executor::create(std::move(graph), chain,
                                                      backends::KernelConfig{config.threads, config.fp16_numerics}));
  return std::unique_ptr<Engine>(std::make_unique<ExecutorEngine>(std::move(exec)));
}

}  // namespace fulcrum::runtime

namespace fulcrum {

Result<std::unique_ptr<Engine>> Builder::build(const Network& network, const BuilderConfig& config) {
  if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
  // The reference engine runs the graph as imported, sharing the network's graph.
  if (config.backend == BackendKind::kReference && !runtime::lowers_precision(config))
    return runtime::create_engine(network.graph(), config);
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<ir::Graph> optimized, runtime::optimize(*network.graph(), config));
  return runtime::create_engine(std::move(optimized), config);
}

Result<std::unique_ptr<Engine>> Builder::build(std::unique_ptr<Network> network, const BuilderConfig& config) {
  if (network == nullptr) return invalid_argument("no network to build");
  if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
  if (config.backend == BackendKind::kReference && !runtime::lowers_precision(config))
    return runtime::create_engine(network->graph(), config);
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<ir::Graph> optimized, runtime::optimize(*network->graph(), config));
  network.reset();  // the optimized graph now holds the only reference to each weight it uses
  return runtime::create_engine(std::move(optimized), config);
}

}  // namespace fulcrum
