// fulcrum inspect: what a model holds and whether Fulcrum can run it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool layers = false;
};

std::string describe(const TensorDesc& d) {
  if (!d.has_shape) return std::string(dtype_name(d.dtype)) + "[?]";
  std::string s = std::string(dtype_name(d.dtype)) + "[";
  for (size_t i = 0; i < d.shape.size(); ++i) {
    if (i) s += ", ";
    s += d.shape[i] >= 0 ? std::to_string(d.shape[i]) : (d.dim_names[i].empty() ? "?" : d.dim_names[i]);
  }
  return s + "]";
}

std::string human_bytes(size_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  return buf;
}

int inspect(const InspectOptions& opt) {
  auto loaded = Network::from_onnx_file(opt.model);
  if (!loaded.is_ok()) return fail(loaded.status().message());
  const Network& net = **loaded;

  std::printf("model: %s\n", opt.model.c_str());
  std::printf("opsets:");
  for (const auto& [domain, version] : net.opsets())
    std::printf(" %s=%lld", domain.empty() ? "ai.onnx" : domain.c_str(), static_cast<long long>(version));
  std::printf("\n\ninputs:\n");
  for (const TensorDesc& d : net.inputs()) std::printf("  %-30s %s\n", d.name.c_str(), describe(d).c_str());
  std::printf("outputs:\n");
  for (const TensorDesc& d : net.outputs()) std::printf("  %-30s %s\n", d.name.c_str(), describe(d).c_str());

  auto layers = net.layers();
  std::map<std::string, int> by_op;
  for (const LayerDesc& l : layers) ++by_op[l.domain.empty() ? l.op_type : l.domain + "." + l.op_type];
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
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model's inputs, outputs, ops, and any op Fulcrum cannot run");
  cmd->add_option("model", opt->model, "ONNX model file")->required();
  cmd->add_flag("--layers", opt->layers, "Also list every node with its inputs and outputs");
  return [opt] { return inspect(*opt); };
}

}  // namespace fulcrum::cli
