// fulcrum build: optimizes an ONNX model once and writes the engine file that run, bench and
// inspect load instead of the model.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

struct BuildOptions {
  std::string model;
  std::string output;
  BuilderConfig config;
  bool verbose = false;
};

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::map<std::string, int> count_ops(const std::vector<LayerDesc>& layers) {
  std::map<std::string, int> counts;
  for (const LayerDesc& l : layers) ++counts[qualified_op(l)];
  return counts;
}

// Each op type with its count before and after the build passes.
void print_op_changes(const std::vector<LayerDesc>& before, const std::vector<LayerDesc>& after) {
  std::map<std::string, std::pair<int, int>> rows;
  for (const auto& [op, n] : count_ops(before)) rows[op].first = n;
  for (const auto& [op, n] : count_ops(after)) rows[op].second = n;
  std::printf("\n  %-32s %8s %8s\n", "op", "imported", "built");
  for (const auto& [op, n] : rows) std::printf("  %-32s %8d %8d\n", op.c_str(), n.first, n.second);
}

int build(const BuildOptions& opt) {
  if (Runtime::is_engine_file(opt.model))
    return fail(opt.model + ": already an engine file; `fulcrum build` takes an ONNX model");
  auto start = Clock::now();
  auto network = Network::from_onnx_file(opt.model);
  if (!network.is_ok()) return fail(network.status().message());
  const double parse_ms = ms_since(start);

  start = Clock::now();
  Status built = Builder().build_serialized(**network, opt.config, SerializeOptions{opt.model}, opt.output);
  if (!built.is_ok()) return fail(opt.model + ": " + built.message());
  const double build_ms = ms_since(start);

  // Reading the file back checks it and tells what the build made of the model.
  auto info = Runtime::inspect_engine_file(opt.output);
  if (!info.is_ok()) return fail(info.status().message());
  const auto before = (*network)->layers();
  std::printf("built %s from %s\n", opt.output.c_str(), opt.model.c_str());
  std::printf("  backend:  %s, threads: %s\n", backend_name(info->config.backend).c_str(),
              info->config.threads == 0 ? "every core" : std::to_string(info->config.threads).c_str());
  std::printf("  nodes:    %zu imported -> %zu built\n", before.size(), info->layers.size());
  std::printf("  layers:   %s (fulcrum inspect %s --layers: each layer's precision and why)\n",
              precision_mix(info->layers).c_str(), opt.output.c_str());
  std::printf(
      "  parse:    %.1f ms\n  build:    %.1f ms (optimize %.1f ms; the rest fingerprints the model and writes)\n",
      parse_ms, build_ms, info->build_ms);
  std::printf("  file:     %s (weights %s)\n", human_bytes(info->file_bytes).c_str(),
              human_bytes(info->weight_bytes).c_str());
  if (opt.verbose) print_op_changes(before, info->layers);
  return 0;
}

}  // namespace

Command add_build_command(CLI::App& app) {
  auto opt = std::make_shared<BuildOptions>();
  CLI::App* cmd = app.add_subcommand(
      "build",
      "Optimize an ONNX model once (FP32, or FP16/INT8 where permitted) and write an engine file that run, bench and "
      "inspect load");
  cmd->add_option("model", opt->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", opt->output, "Engine file to write (e.g. MODEL.fulcrum)")->required();
  add_engine_options(*cmd, opt->config);
  add_precision_options(*cmd, opt->config);
  cmd->add_flag("-v,--verbose", opt->verbose, "Also show each op type's count before and after the build");
  return [opt] { return build(*opt); };
}

}  // namespace fulcrum::cli
