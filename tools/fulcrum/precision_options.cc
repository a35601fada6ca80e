// The precision options of commands that build an engine (build, run, bench): TensorRT's
// --fp16 / --int8 / --best, --layer-precisions with --precision-constraints, and INT8
// calibration (--calib-cache, --calib-data, ...).
#include "commands.h"

namespace fulcrum::cli {

void add_precision_options(CLI::App& command, BuilderConfig& config) {
  const char* group = "Precision";
  command.add_flag("--fp16", config.fp16, "Permit FP16 layers (where the builder finds them safe)")->group(group);
  command.add_flag("--int8", config.int8, "Permit INT8 layers (needs scales: --calib-cache/--calib-data, or Q/DQ)")
      ->group(group);
  command
      .add_flag_callback(
          "--best", [&config] { config.fp16 = config.int8 = true; }, "Permit every precision (--fp16 --int8)")
      ->group(group);
  command
      .add_flag("--fp16-numerics", config.fp16_numerics,
                "FP16 layers also round their outputs to FP16 (predicts GPU FP16 accuracy; no speed on a CPU)")
      ->group(group);
  command
      .add_flag_callback(
          "--no-int8-timing", [&config] { config.int8_timing = false; },
          "INT8 wherever a layer can be, without timing it against FP32 at build time")
      ->group(group);
  command
      .add_option_function<std::string>(
          "--layer-precisions",
          [&config](const std::string& text) {
            std::string error;
            if (!parse_layer_precisions(text, config.layer_precisions, error)) throw CLI::ValidationError(error);
          },
          "Per-layer precision requests: GLOB:fp32|fp16|int8,... on node names; later entries win, * is the default")
      ->group(group);
  command
      .add_option_function<std::string>(
          "--precision-constraints",
          [&config](const std::string& text) { parse_constraints(text, config.precision_constraints); },
          "How --layer-precisions binds: none (ignored), prefer (fall back with a warning), obey (or fail)")
      ->check(CLI::IsMember({"none", "prefer", "obey"}))
      ->group(group);
  command
      .add_option("--calib-cache", config.calibration_cache,
                  "INT8 calibration cache (TensorRT format): used as is when it exists, else written by calibrating")
      ->group(group);
  command
      .add_option("--calib-data", config.calibration.data,
                  "Calibration data (images folder, .npy, folder of .npy, .npz) to calibrate with when no cache exists")
      ->group(group);
  command.add_option("--calibrator", config.calibration.calibrator, "entropy, minmax, percentile[=P] or mse")
      ->capture_default_str()
      ->group(group);
  command.add_option("--calib-batch", config.calibration.batch_size, "Calibration samples per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  command.add_option("--calib-max-samples", config.calibration.max_samples, "Calibrate on at most N samples (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  command
      .add_option("--preset", config.calibration.preset,
                  "Calibration image preprocessing: imagenet, unit (x/255), or none (arrays)")
      ->check(CLI::IsMember({"imagenet", "unit", "none"}))
      ->capture_default_str()
      ->group(group);
  config.calibration.progress = print_calibration_progress;
}

}  // namespace fulcrum::cli
