// fulcrum calibrate: runs a model over calibration data and writes an INT8 calibration cache
// in TensorRT's format, with Fulcrum's record of what it was computed from next to it.
#include <chrono>
#include <cstdio>
#include <string>

#include "commands.h"
#include "fulcrum/calibrate.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

struct CalibrateOptions {
  std::string model;
  std::string output;
  CalibrationOptions calibration;
};

int calibrate(CalibrateOptions& opt) {
  opt.calibration.progress = print_calibration_progress;
  const auto start = std::chrono::steady_clock::now();
  auto summary = fulcrum::calibrate(opt.model, opt.output, opt.calibration);
  if (!summary.is_ok()) return fail(summary.status().message());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("calibrated %s on %s in %lld batches, %.1f s\n", opt.model.c_str(), summary->data.c_str(),
              static_cast<long long>(summary->batches), s);
  std::printf("  %s: %zu tensors (%s)\n  %s: calibration record\n", summary->cache_path.c_str(), summary->tensors,
              summary->algorithm.c_str(), summary->record_path.c_str());
  if (summary->warnings.empty())
    std::printf("  INT8 suitability: no warnings\n");
  else
    std::printf("  INT8 suitability: %zu warning(s), kept in the record:\n", summary->warnings.size());
  for (const std::string& w : summary->warnings) std::printf("    %s\n", w.c_str());
  return 0;
}

}  // namespace

void print_calibration_progress(const CalibrationProgress& p) {
  std::fprintf(stderr, "calibrate: batch %lld/%lld (%lld/%lld samples)\n", static_cast<long long>(p.batch),
               static_cast<long long>(p.batches), static_cast<long long>(p.samples),
               static_cast<long long>(p.total_samples));
}

Command add_calibrate_command(CLI::App& app) {
  auto opt = std::make_shared<CalibrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Run an ONNX model over calibration data; write an INT8 calibration cache (TensorRT format)");
  cmd->add_option("model", opt->model, "ONNX model")->required();
  cmd->add_option("--calib-data", opt->calibration.data,
                  "Calibration data: a folder of images or .npy files, a .npy, or a .npz (one array per input)")
      ->required();
  cmd->add_option("--calibrator", opt->calibration.calibrator, "entropy, minmax, percentile[=P] or mse")
      ->capture_default_str();
  cmd->add_option("--batch", opt->calibration.batch_size, "Samples per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-samples", opt->calibration.max_samples, "Use at most N samples (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--preset", opt->calibration.preset,
                  "Image preprocessing: imagenet, unit (x/255), or none (arrays, taken as preprocessed)")
      ->check(CLI::IsMember({"imagenet", "unit", "none"}))
      ->capture_default_str();
  cmd->add_option("--threads", opt->calibration.threads, "Threads an inference may use (0: every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("-o,--output", opt->output, "Calibration cache to write (its record goes to OUTPUT.json)")
      ->required();
  return [opt] { return calibrate(*opt); };
}

}  // namespace fulcrum::cli
