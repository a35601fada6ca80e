// fulcrum: build, run and inspect inference engines from ONNX models.
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

const std::map<std::string, BackendKind>& backend_names() {
  static const std::map<std::string, BackendKind> names = {
      {"reference", BackendKind::kReference},
      {"cpu", BackendKind::kCpu},
  };
  return names;
}

std::string backend_name(BackendKind kind) {
  for (const auto& [name, k] : backend_names())
    if (k == kind) return name;
  return "unknown";
}

void add_engine_options(CLI::App& command, BuilderConfig& config) {
  command.add_option("--threads", config.threads, "Threads an inference may use (0: every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  std::vector<std::string> names;
  for (const auto& [name, kind] : backend_names()) names.push_back(name);
  command
      .add_option_function<std::string>(
          "--backend", [&config](const std::string& name) { config.backend = backend_names().at(name); },
          "Backend that runs the model (default " + backend_name(BuilderConfig{}.backend) + ")")
      ->check(CLI::IsMember(names));
}

Result<NamedTensor> load_input(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return Status(StatusCode::kInvalidArgument, "--input '" + spec + "' must have the form NAME=FILE.npy");
  auto tensor = load_npy(spec.substr(eq + 1));
  if (!tensor.is_ok()) return tensor.status().with_context("input '" + spec.substr(0, eq) + "'");
  return NamedTensor{spec.substr(0, eq), std::move(tensor).value()};
}

Result<OpenedEngine> open_engine(const std::string& model, const BuilderConfig& config, const CLI::App& command) {
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  OpenedEngine out;
  out.config = config;
  auto start = Clock::now();
  if (Runtime::is_engine_file(model)) {
    out.from_engine_file = true;
    FULCRUM_ASSIGN_OR_RETURN(EngineFileInfo info, Runtime::inspect_engine_file(model));
    if (command.count("--backend") > 0 && info.config.backend != config.backend)
      return Status(StatusCode::kInvalidArgument,
                    model + ": engine built for the " + backend_name(info.config.backend) +
                        " backend; rebuild it with `fulcrum build --backend " + backend_name(config.backend) + "`");
    out.config = info.config;
    RuntimeOptions options;
    if (command.count("--threads") > 0) out.config.threads = options.threads = config.threads;
    FULCRUM_ASSIGN_OR_RETURN(out.engine, Runtime(options).load_engine(model));
    out.load_ms = ms_since(start);
    return out;
  }
  FULCRUM_ASSIGN_OR_RETURN(auto network, Network::from_onnx_file(model));
  out.load_ms = ms_since(start);
  start = Clock::now();
  auto engine = Builder().build(std::move(network), config);  // frees the network's weights as they are packed
  if (!engine.is_ok()) return engine.status().with_context(model);
  out.engine = std::move(engine).value();
  out.build_ms = ms_since(start);
  return out;
}

std::string describe_tensor(const TensorDesc& d) {
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
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  return buf;
}

}  // namespace fulcrum::cli

int main(int argc, char** argv) {
  using namespace fulcrum::cli;
  CLI::App app{
      "Fulcrum: an inference engine for ONNX models on the CPU (oneDNN), in FP32, FP16 or INT8 per layer.\n"
      "Build an engine file once with `fulcrum build` (--fp16 / --int8 / --best permit lower precisions where a "
      "kernel\nsupports them and they are faster); run, bench and inspect take an ONNX model or an engine file.\n"
      "`fulcrum calibrate` writes an INT8 calibration cache (TensorRT format); `fulcrum export-qdq` writes it as a "
      "Q/DQ\nONNX model; Q/DQ models build into INT8 engines as they are."};
  app.set_version_flag("--version", std::string("fulcrum ") + fulcrum::version_string());
  app.require_subcommand(1);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*make)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command c = make(app);
    commands[app.get_subcommands({})[before]] = std::move(c);
  };
  add(add_build_command);
  add(add_run_command);
  add(add_inspect_command);
  add(add_bench_command);
  add(add_calibrate_command);
  add(add_export_qdq_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const std::exception& e) {
    return fail(std::string("unexpected failure: ") + e.what());
  }
  return fail("no command given");
}
