// fulcrum: build, run and inspect inference engines from ONNX models.
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

}  // namespace fulcrum::cli

int main(int argc, char** argv) {
  using namespace fulcrum::cli;
  CLI::App app{"Fulcrum: an inference engine for ONNX models (FP32 on the CPU: reference and oneDNN backends)."};
  app.set_version_flag("--version", std::string("fulcrum ") + fulcrum::version_string());
  app.require_subcommand(1);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*make)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command c = make(app);
    commands[app.get_subcommands({})[before]] = std::move(c);
  };
  add(add_run_command);
  add(add_inspect_command);
  add(add_bench_command);
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
