// fulcrum inspect: what a model holds and whether Fulcrum can run it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "bench_inputs.h"
#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool layers = false;
  BuilderConfig config;
  const CLI::App* command = nullptr;
};

// The built engine's layers by op, backend and precision ("FusedConv  53  cpu  fp32"), or
// each layer with why it runs in its precision.
void print_engine_layers(const Engine& engine, bool each) {
  const std::vector<EngineLayer> layers = engine.layers();
  std::map<std::tuple<std::string, std::string, std::string>, int> by_op;
  for (const EngineLayer& l : layers) ++by_op[{qualified_op(l), l.backend, precision_name(l.precision)}];
  std::printf("\nengine layers (after the build passes): %zu (%s)\n", layers.size(), precision_mix(layers).c_str());
  for (const auto& [key, count] : by_op)
    std::printf("  %-28s %4d  %-9s %s\n", std::get<0>(key).c_str(), count, std::get<1>(key).c_str(),
                std::get<2>(key).c_str());
  if (!each) return;
  std::printf("\n  %-40s %-22s %-9s %-5s %s\n", "layer", "op", "backend", "prec", "why");
  for (const EngineLayer& l : layers)
    std::printf("  %-40s %-22s %-9s %-5s %s\n", l.name.c_str(), qualified_op(l).c_str(), l.backend.c_str(),
                precision_name(l.precision), l.precision_reason.c_str());
}

// With --backend: the layers an engine built for it runs and what it holds. Peak activation
// memory is the arena one run needs, measured by running generated inputs of the declared
// shapes (symbolic dims 1).
Status print_engine(const Network& net, const BuilderConfig& config, bool each_layer) {
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Builder().build(net, config));
  print_engine_layers(*engine, each_layer);
  const EngineMemoryInfo info = engine->memory_info();
  std::printf("\nengine memory (%s backend):\n", backend_name(config.backend).c_str());
  std::printf("  weights (model):         %s\n", human_bytes(info.model_weight_bytes).c_str());
  std::printf("  weights (engine holds):  %s = %s packed + %s as stored\n",
              human_bytes(info.packed_weight_bytes + info.held_weight_bytes).c_str(),
              human_bytes(info.packed_weight_bytes).c_str(), human_bytes(info.held_weight_bytes).c_str());
  FULCRUM_ASSIGN_OR_RETURN(BenchInputs inputs, make_inputs(engine->inputs(), InputRequest{}));
  auto context = engine->create_execution_context();
  FULCRUM_RETURN_IF_ERROR(context->run(inputs.tensors).status());
  std::string shapes;
  for (const NamedTensor& t : inputs.tensors)
    shapes += (shapes.empty() ? "" : ", ") + t.name + shape_to_string(t.tensor.shape());
  std::printf("  peak activations:        %s (arena for %s)\n", human_bytes(context->activation_arena_bytes()).c_str(),
              shapes.c_str());
  return Status::ok();
}

int inspect(const InspectOptions& opt) {
  if (Runtime::is_engine_file(opt.model)) return inspect_engine_file(opt.model, opt.layers);
  auto loaded = Network::from_onnx_file(opt.model);
  if (!loaded.is_ok()) return fail(loaded.status().message());
  const Network& net = **loaded;

  std::printf("model: %s\n", opt.model.c_str());
  std::printf("opsets:");
  for (const auto& [domain, version] : net.opsets())
    std::printf(" %s=%lld", domain.empty() ? "ai.onnx" : domain.c_str(), static_cast<long long>(version));
  std::printf("\n\ninputs:\n");
  for (const TensorDesc& d : net.inputs()) std::printf("  %-30s %s\n", d.name.c_str(), describe_tensor(d).c_str());
  std::printf("outputs:\n");
  for (const TensorDesc& d : net.outputs()) std::printf("  %-30s %s\n", d.name.c_str(), describe_tensor(d).c_str());

  auto layers = net.layers();
  std::map<std::string, int> by_op;
  for (const LayerDesc& l : layers) ++by_op[qualified_op(l)];
  std::vector<std::pair<std::string, int>> sorted(by_op.begin(), by_op.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::printf("\nweights: %s\nnodes: %zu\n", human_bytes(net.weight_bytes()).c_str(), layers.size());
  for (const auto& [op, count] : sorted) std::printf("  %-28s %d\n", op.c_str(), count);

  auto unsupported = net.unsupported_ops();
  if (unsupported.empty()) {
    std::printf("\nsupported: every op runs on the reference backend\n");
  } else {
    std::printf("\nunsupported ops (%zu):\n", unsupported.size());
    for (const auto& [op, nodes] : unsupported) {
      std::printf("  %s: %zu node%s:", op.c_str(), nodes.size(), nodes.size() == 1 ? "" : "s");
      for (size_t i = 0; i < nodes.size() && i < 8; ++i) std::printf(" %s", nodes[i].c_str());
      std::printf("%s\n", nodes.size() > 8 ? " ..." : "");
    }
  }
  if (opt.layers) std::printf("\n%s", net.to_string().c_str());
  const BuilderConfig& c = opt.config;
  if (opt.command->count("--backend") > 0 || c.fp16 || c.int8 || !c.layer_precisions.empty()) {
    Status memory = print_engine(net, opt.config, opt.layers);
    if (!memory.is_ok()) return fail(opt.model + ": " + memory.message());
  }
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a model's inputs, outputs, ops, and any op Fulcrum cannot run; or an engine file's origin and layers");
  cmd->add_option("model", opt->model, "ONNX model or engine file (from fulcrum build)")->required();
  cmd->add_flag(
      "--layers", opt->layers,
      "Also list every node with its inputs and outputs (with --backend: every engine layer and its backend)");
  add_engine_options(*cmd, opt->config);  // --backend: also build an engine and show its layers and memory
  add_precision_options(*cmd, opt->config);
  opt->command = cmd;
  return [opt] { return inspect(*opt); };
}

}  // namespace fulcrum::cli
