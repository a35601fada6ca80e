// fulcrum bench: builds an engine once, then times repeated inference, in the manner of
// trtexec: throughput, latency percentiles, build time and peak memory.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_inputs.h"
#include "bench_stats.h"
#include "commands.h"

namespace fulcrum::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int64_t batch = 1;
  CLI::Option* batch_option = nullptr;
  std::vector<std::string> shapes;
  std::vector<std::string> inputs;
  double warmup_s = 1.0;
  double duration_s = 5.0;
  int64_t iterations = 0;  // 0: run for duration_s instead
  BuilderConfig config;
  std::string json;
  const CLI::App* command = nullptr;  // to tell options given from defaults
};

struct Timing {
  std::vector<double> latencies_ms;
  double wall_s = 0;
  int64_t warmup_runs = 0;
  double warmup_s = 0;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Reports how far the timed runs are: one line rewritten in place on a terminal, a new line
// every second otherwise (a log should not fill with carriage returns).
class Progress {
 public:
  Progress(double duration_s, int64_t iterations)
      : tty_(isatty(fileno(stderr))), duration_s_(duration_s), iterations_(iterations) {}

  void update(int64_t runs, double elapsed_s, bool done = false) {
    if (!done && elapsed_s - last_s_ < (tty_ ? 0.1 : 1.0)) return;
    if (done && !tty_ && runs == last_runs_) return;  // the last line already says it
    last_s_ = elapsed_s;
    last_runs_ = runs;
    char line[160];
    if (iterations_ > 0)
      std::snprintf(line, sizeof line, "running: %lld/%lld runs, %.1f s, %.2f qps", static_cast<long long>(runs),
                    static_cast<long long>(iterations_), elapsed_s, elapsed_s > 0 ? runs / elapsed_s : 0.0);
    else
      std::snprintf(line, sizeof line, "running: %lld runs, %.1f/%.1f s, %.2f qps", static_cast<long long>(runs),
                    elapsed_s, duration_s_, elapsed_s > 0 ? runs / elapsed_s : 0.0);
    std::fprintf(stderr, tty_ ? "\r%-70s%s" : "%s%s\n", line, tty_ && done ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  bool tty_;
  double duration_s_;
  int64_t iterations_;
  double last_s_ = 0;
  int64_t last_runs_ = 0;
};

// Warms up for `warmup_s` (at least one run, which also checks the inputs), then times runs
// until `iterations` are done or `duration_s` has passed.
Result<Timing> time_runs(ExecutionContext& context, const std::vector<NamedTensor>& inputs, const BenchOptions& opt) {
  Timing timing;
  auto start = Clock::now();
  do {
    auto outputs = context.run(inputs);
    if (!outputs.is_ok()) return outputs.status();
    ++timing.warmup_runs;
  } while (seconds_since(start) < opt.warmup_s);
  timing.warmup_s = seconds_since(start);

  Progress progress(opt.duration_s, opt.iterations);
  start = Clock::now();
  while (opt.iterations > 0 ? static_cast<int64_t>(timing.latencies_ms.size()) < opt.iterations
                            : seconds_since(start) < opt.duration_s) {
    auto run_start = Clock::now();
    auto outputs = context.run(inputs);
    timing.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - run_start).count());
    if (!outputs.is_ok()) return outputs.status();
    progress.update(static_cast<int64_t>(timing.latencies_ms.size()), seconds_since(start));
  }
  timing.wall_s = seconds_since(start);
  progress.update(static_cast<int64_t>(timing.latencies_ms.size()), timing.wall_s, true);
  return timing;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

struct Report {
  std::string model, backend;
  int threads = 0;
  int64_t batch = 1;
  double load_ms = 0, build_ms = 0;
  bool engine_file = false;  // load_ms loaded an engine file (no build)
  Timing timing;
  LatencyStats latency;
  double qps = 0;
  double peak_rss_mb = 0;
  std::vector<NamedTensor> inputs;
  std::vector<bool> generated;
};

void print_summary(const Report& r) {
  std::printf("model:       %s\n", r.model.c_str());
  for (size_t i = 0; i < r.inputs.size(); ++i)
    std::printf("input:       %s %s%s%s\n", r.inputs[i].name.c_str(), dtype_name(r.inputs[i].tensor.dtype()),
                shape_to_string(r.inputs[i].tensor.shape()).c_str(), r.generated[i] ? " (generated)" : "");
  std::printf("backend:     %s\nthreads:     %d\n", r.backend.c_str(), r.threads);
  if (r.engine_file) {
    std::printf("load:        %.1f ms (engine file, kernels included)\n", r.load_ms);
  } else {
    std::printf("load:        %.1f ms (parse the model)\n", r.load_ms);
    std::printf("build:       %.1f ms (engine)\n", r.build_ms);
  }
  std::printf("warmup:      %lld runs in %.2f s\n", static_cast<long long>(r.timing.warmup_runs), r.timing.warmup_s);
  std::printf("batch:       %lld\n", static_cast<long long>(r.batch));
  std::printf("runs:        %zu in %.2f s\n", r.timing.latencies_ms.size(), r.timing.wall_s);
  std::printf("throughput:  %.3f qps, %.3f samples/s\n", r.qps, r.qps * static_cast<double>(r.batch));
  const LatencyStats& l = r.latency;
  std::printf("latency ms:  min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", l.min, l.mean,
              l.median, l.p90, l.p95, l.p99, l.max);
  std::printf("peak RSS:    %.1f MB\n", r.peak_rss_mb);
}

Status write_json(const std::string& path, const Report& r) {
  nlohmann::json inputs = nlohmann::json::array();
  for (size_t i = 0; i < r.inputs.size(); ++i)
    inputs.push_back({{"name", r.inputs[i].name},
                      {"dtype", dtype_name(r.inputs[i].tensor.dtype())},
                      {"shape", r.inputs[i].tensor.shape()},
                      {"generated", static_cast<bool>(r.generated[i])}});
  const LatencyStats& l = r.latency;
  nlohmann::json j = {
      {"model", r.model},
      {"backend", r.backend},
      {"threads", r.threads},
      {"batch", r.batch},
      {"inputs", inputs},
      {"load_ms", r.load_ms},
      {"build_ms", r.build_ms},
      {"engine_file", r.engine_file},
      {"warmup_runs", r.timing.warmup_runs},
      {"runs", r.timing.latencies_ms.size()},
      {"duration_s", r.timing.wall_s},
      {"throughput_qps", r.qps},
      {"samples_per_s", r.qps * static_cast<double>(r.batch)},
      {"latency_ms",
       {{"min", l.min},
        {"mean", l.mean},
        {"median", l.median},
        {"p90", l.p90},
        {"p95", l.p95},
        {"p99", l.p99},
        {"max", l.max}}},
      {"peak_rss_mb", r.peak_rss_mb},
  };
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return Status(StatusCode::kIoError, path + ": cannot write the JSON report");
  return Status::ok();
}

Result<BenchInputs> prepare_inputs(const Engine& engine, const BenchOptions& opt) {
  InputRequest request;
  FULCRUM_ASSIGN_OR_RETURN(request.shapes, parse_shapes(opt.shapes));
  for (const std::string& spec : opt.inputs) {
    FULCRUM_ASSIGN_OR_RETURN(NamedTensor input, load_input(spec));
    if (!request.given.emplace(input.name, input.tensor).second)
      return Status(StatusCode::kInvalidArgument, "input '" + input.name + "' is given twice");
  }
  request.batch = opt.batch;
  request.batch_given = opt.batch_option->count() > 0;
  return make_inputs(engine.inputs(), request);
}

int bench(const BenchOptions& opt) {
  auto opened = open_engine(opt.model, opt.config, *opt.command);
  if (!opened.is_ok()) return fail(opened.status().message());
  const Engine& engine = *opened->engine;
  auto inputs = prepare_inputs(engine, opt);
  if (!inputs.is_ok()) return fail(opt.model + ": " + inputs.status().message());

  auto context = engine.create_execution_context();
  auto timing = time_runs(*context, inputs->tensors, opt);
  if (!timing.is_ok()) return fail(opt.model + ": " + timing.status().message());

  Report r;
  r.model = opt.model;
  r.backend = backend_name(opened->config.backend);
  r.threads = opened->config.threads > 0 ? opened->config.threads
                                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  r.engine_file = opened->from_engine_file;
  r.batch = inputs->batch;
  r.load_ms = opened->load_ms;
  r.build_ms = opened->build_ms;
  r.timing = std::move(timing).value();
  r.latency = summarize(r.timing.latencies_ms);
  r.qps = r.timing.wall_s > 0 ? static_cast<double>(r.timing.latencies_ms.size()) / r.timing.wall_s : 0;
  r.peak_rss_mb = peak_rss_mb();
  r.inputs = std::move(inputs->tensors);
  r.generated = std::move(inputs->generated);
  print_summary(r);
  if (!opt.json.empty()) {
    Status s = write_json(opt.json, r);
    if (!s.is_ok()) return fail(s.message());
  }
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time inference on a model: throughput, latency percentiles, memory");
  cmd->add_option("model", opt->model, "ONNX model or engine file (from fulcrum build)")->required();
  opt->batch_option = cmd->add_option("--batch", opt->batch, "Size of the symbolic batch dimension (dim 0) of inputs")
                          ->check(CLI::PositiveNumber)
                          ->capture_default_str();
  cmd->add_option("--shapes", opt->shapes, "Input shapes as NAME:D0xD1x...[,NAME2:...] (for symbolic dimensions)")
      ->allow_extra_args(false);
  cmd->add_option("-i,--input", opt->inputs, "Input tensor as NAME=FILE.npy; inputs not given are generated")
      ->allow_extra_args(false);
  cmd->add_option("--warmup", opt->warmup_s, "Seconds of untimed runs first (at least one run)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* duration = cmd->add_option("--duration", opt->duration_s, "Seconds of timed runs")
                       ->check(CLI::PositiveNumber)
                       ->capture_default_str();
  cmd->add_option("--iterations", opt->iterations, "Number of timed runs, instead of --duration")
      ->check(CLI::PositiveNumber)
      ->excludes(duration);
  add_engine_options(*cmd, opt->config);
  add_precision_options(*cmd, opt->config);
  opt->command = cmd;
  cmd->add_option("--json", opt->json, "Also write the results to this JSON file");
  return [opt] { return bench(*opt); };
}

}  // namespace fulcrum::cli
