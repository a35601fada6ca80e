#include "runtime/precision_timing.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "core/error.h"
#include "core/logging.h"
#include "ir/graph_edit.h"
#include "passes/lower_int8.h"
#include "passes/pass.h"
#include "runtime/engine_impl.h"

namespace fulcrum::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using LayerTimes = std::map<std::string, std::vector<double>>;  // node name -> ms per run

Tensor generated_input(const ir::Value& v) {
  Shape shape;
  if (v.type.dims)
    for (const ir::Dim& d : *v.type.dims) shape.push_back(d.is_fixed() ? d.value : 1);
  Tensor t = Tensor::zeros(v.type.dtype, shape);  // integer inputs (token ids, indices): zeros
  if (v.type.dtype == DType::kFloat32) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  }
  return t;
}

// Runs an engine built from `graph` and times each layer: the time from the previous value's
// appearance to the first output of the layer (the executor reports values as they appear).
Result<LayerTimes> time_layers(std::unique_ptr<ir::Graph> graph, const BuilderConfig& config, int runs) {
  std::map<std::string, std::string> producer;  // output tensor -> node name
  for (const auto& n : graph->nodes())
    for (const ir::Value* v : n->outputs)
      if (v != nullptr) producer.emplace(v->name(), n->name);
  std::vector<NamedTensor> inputs;
  for (const ir::Value* v : graph->inputs) inputs.push_back({v->name(), generated_input(*v)});
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, create_engine(std::move(graph), config));
  std::unique_ptr<ExecutionContext> context = engine->create_execution_context();
  FULCRUM_RETURN_IF_ERROR(context->run(inputs).status());  // warm-up: primitives, arena
  LayerTimes times;
  Clock::time_point last;
  std::string timed_node;
  FULCRUM_RETURN_IF_ERROR(context->set_tensor_observer([&](const std::string& name, const Tensor&) {
    const Clock::time_point now = Clock::now();
    auto it = producer.find(name);
    if (it != producer.end() && it->second != timed_node) {
      times[it->second].push_back(std::chrono::duration<double, std::milli>(now - last).count());
      timed_node = it->second;
    }
    last = Clock::now();  // the observer's own time is not the next layer's
    return Status::ok();
  }));
  for (int r = 0; r < runs; ++r) {
    timed_node.clear();
    last = Clock::now();
    FULCRUM_RETURN_IF_ERROR(context->run(inputs).status());
  }
  return times;
}

double fastest(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

Result<std::unique_ptr<ir::Graph>> variant(const ir::Graph& planned, bool int8) {
  std::unique_ptr<ir::Graph> g = ir::clone(planned);
  passes::PassContext ctx;
  std::vector<std::unique_ptr<passes::Pass>> list;
  if (int8) {
    list.push_back(std::make_unique<passes::LowerInt8>());
  } else {
    for (const auto& n : g->nodes())
      if (n->precision == Precision::kInt8) n->precision = Precision::kFp32;
  }
  FULCRUM_RETURN_IF_ERROR(passes::run_passes(*g, list, ctx).status());
  FULCRUM_RETURN_IF_ERROR(passes::run_passes(*g, passes::cpu_layout_passes(), ctx).status());
  return g;
}

}  // namespace

Result<int> keep_int8_where_faster(ir::Graph& planned, const BuilderConfig& config, const LayerTimingOptions& options) {
  std::vector<ir::Node*> int8_layers;
  for (const auto& n : planned.nodes())
    if (n->precision == Precision::kInt8) int8_layers.push_back(n.get());
  if (int8_layers.empty() || config.backend != BackendKind::kCpu) return 0;
  const auto start = Clock::now();
  // One thread: the FP32/INT8 ratio is what matters, and a single thread is not stalled at
  // every layer's barrier when another process holds one of the cores.
  BuilderConfig timing = config;
  timing.threads = 1;
  FULCRUM_ASSIGN_OR_RETURN(auto fp32_graph, variant(planned, false));
  FULCRUM_ASSIGN_OR_RETURN(LayerTimes fp32, time_layers(std::move(fp32_graph), timing, options.runs));
  FULCRUM_ASSIGN_OR_RETURN(auto int8_graph, variant(planned, true));
  FULCRUM_ASSIGN_OR_RETURN(LayerTimes int8, time_layers(std::move(int8_graph), timing, options.runs));
  int reverted = 0;
  for (ir::Node* n : int8_layers) {
    auto f = fp32.find(n->name), q = int8.find(n->name);
    if (f == fp32.end() || q == int8.end()) continue;
    const double t32 = fastest(f->second), t8 = fastest(q->second);
    const std::string measured = fmt::format("INT8 {:.3f} ms vs FP32 {:.3f} ms", t8, t32);
    // A layer the model quantized (Q/DQ) or the user asked for keeps INT8 regardless.
    const bool requested = n->precision_reason.rfind("requested", 0) == 0;
    if (t8 <= t32 * options.max_ratio + options.slack_ms || requested) {
      n->precision_reason += "; measured " + measured;
      continue;
    }
    n->precision = Precision::kFp32;
    n->precision_reason = "INT8 permitted but not faster here: measured " + measured;
    ++reverted;
  }
  log_verbose("INT8 timing: {} of {} layers kept FP32 ({:.0f} ms)", reverted, int8_layers.size(),
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  return reverted;
}

}  // namespace fulcrum::runtime
