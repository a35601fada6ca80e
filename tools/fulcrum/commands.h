// The fulcrum CLI's subcommands. Each registers its options on the app and returns the
// function that runs it; the CLI uses only the public API in include/fulcrum.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_build_command(CLI::App& app);
Command add_calibrate_command(CLI::App& app);
Command add_export_qdq_command(CLI::App& app);

// Prints "error: <message>" to stderr and returns the CLI's failure exit code (1).
int fail(const std::string& message);

// The backends --backend accepts, by name.
const std::map<std::string, BackendKind>& backend_names();
std::string backend_name(BackendKind kind);

// Adds --threads and --backend to a command that builds an engine with `config`.
void add_engine_options(CLI::App& command, BuilderConfig& config);

// Adds --fp16, --int8, --best, --layer-precisions, --precision-constraints and the INT8
// calibration options (--calib-cache, --calib-data, ...).
void add_precision_options(CLI::App& command, BuilderConfig& config);

// "calibrate: batch 3/63 (24/500 samples)" on stderr: calibration's progress line.
void print_calibration_progress(const CalibrationProgress& progress);

// Reads an --input spec, NAME=FILE.npy.
Result<NamedTensor> load_input(const std::string& spec);

// The engine a command runs. MODEL may be an ONNX model (parsed, then built with `config`) or
// an engine file from `fulcrum build`, told apart by its magic, not its name: the engine file
// is loaded as built, except that --threads, when given on `command`, overrides its threads.
struct OpenedEngine {
  std::unique_ptr<Engine> engine;
  bool from_engine_file = false;
  BuilderConfig config;  // what the engine runs with (an engine file's own, --threads applied)
  double load_ms = 0;    // parse the ONNX model, or load the engine file (kernels included)
  double build_ms = 0;   // build the engine from the network (0 for an engine file)
};
Result<OpenedEngine> open_engine(const std::string& model, const BuilderConfig& config, const CLI::App& command);

// Shows an engine file: where it came from, what it was built for, its optimized layers.
int inspect_engine_file(const std::string& path, bool layers);

// "float32[N, 3, 224, 224]"
std::string describe_tensor(const TensorDesc& desc);
// "97.5 MiB"
std::string human_bytes(size_t bytes);

// A layer's op as "Conv" or "fulcrum.FusedConv" (LayerDesc or EngineLayer).
template <class Layer>
std::string qualified_op(const Layer& l) {
  return l.domain.empty() ? l.op_type : l.domain + "." + l.op_type;
}

// How many layers run in each precision: "50 fp32, 3 int8".
template <class Layer>
std::string precision_mix(const std::vector<Layer>& layers) {
  std::map<std::string, int> counts;
  for (const Layer& l : layers) ++counts[precision_name(l.precision)];
  std::string mix;
  for (const auto& [precision, n] : counts) mix += (mix.empty() ? "" : ", ") + std::to_string(n) + " " + precision;
  return mix;
}

}  // namespace fulcrum::cli
