// fulcrum run: runs a model on given inputs and writes each output as a .npy file.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  BuilderConfig config;
  const CLI::App* command = nullptr;  // to tell options given from defaults
  int repeat = 1;                     // runs on one context; the last one's outputs are written
};

// Output files are named after the tensor, with characters outside [A-Za-z0-9._-] as '_'.
std::string file_name_for(const std::string& tensor) {
  std::string out = tensor;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return out + ".npy";
}

int run(const RunOptions& opt) {
  std::vector<NamedTensor> inputs;
  for (const std::string& spec : opt.inputs) {
    auto input = load_input(spec);
    if (!input.is_ok()) return fail(input.status().message());
    inputs.push_back(std::move(input).value());
  }
  auto opened = open_engine(opt.model, opt.config, *opt.command);
  if (!opened.is_ok()) return fail(opened.status().message());
  auto context = opened->engine->create_execution_context();

  auto start = std::chrono::steady_clock::now();
  auto outputs = context->run(inputs);
  // Later runs take their activations from the arena the first one planned.
  for (int i = 1; i < opt.repeat && outputs.is_ok(); ++i) outputs = context->run(inputs);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!outputs.is_ok()) return fail(opt.model + ": " + outputs.status().message());

  std::error_code ec;
  std::filesystem::create_directories(opt.output_dir, ec);
  if (ec) return fail(opt.output_dir + ": cannot create directory: " + ec.message());
  const std::string runs = opt.repeat > 1 ? " (" + std::to_string(opt.repeat) + " runs)" : "";
  std::printf("ran %s in %.1f ms%s\n", opt.model.c_str(), ms, runs.c_str());
  for (const NamedTensor& out : *outputs) {
    std::string path = (std::filesystem::path(opt.output_dir) / file_name_for(out.name)).string();
    Status s = save_npy(path, out.tensor);
    if (!s.is_ok()) return fail(s.message());
    std::printf("  %-30s %-8s %-20s -> %s\n", out.name.c_str(), dtype_name(out.tensor.dtype()),
                shape_to_string(out.tensor.shape()).c_str(), path.c_str());
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model on .npy inputs; write each output to DIR/<name>.npy");
  cmd->add_option("model", opt->model, "ONNX model or engine file (from fulcrum build)")->required();
  cmd->add_option("-i,--input", opt->inputs, "Input tensor as NAME=FILE.npy (repeat for each model input)");
  cmd->add_option("-o,--output-dir", opt->output_dir, "Directory for the output .npy files")->required();
  add_engine_options(*cmd, opt->config);
  add_precision_options(*cmd, opt->config);
  cmd->add_option("--repeat", opt->repeat, "Run N times on one context (the first run plans the activation arena)")
      ->check(CLI::PositiveNumber);
  opt->command = cmd;
  return [opt] { return run(*opt); };
}

}  // namespace fulcrum::cli
