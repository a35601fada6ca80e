#include "runtime/int8_scales.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/logging.h"
#include "fulcrum/calibrate.h"
#include "quant/calib_cache.h"
#include "quant/calib_record.h"
#include "quant/calibrator.h"

namespace fulcrum::runtime {
namespace {

namespace fs = std::filesystem;

void warn(const std::string& message, std::vector<std::string>* warnings) {
  log_warning("{}", message);
  if (warnings != nullptr) warnings->push_back(message);
}

// The cache to read: the configured one (calibrating into it first when it does not exist
// and data is given), or a temporary one when only data is given.
Result<std::string> cache_for_build(const ir::Graph& graph, const BuilderConfig& config, bool& temporary) {
  temporary = false;
  const std::string& cache = config.calibration_cache;
  if (!cache.empty() && fs::exists(cache)) {
    quant::warn_recorded(cache);  // the INT8 suitability warnings of the calibration it skips
    return cache;
  }
  if (config.calibration.data.empty()) {
    if (!cache.empty())
      return invalid_argument("{}: calibration cache does not exist; give calibration data to create it", cache);
    return std::string();
  }
  if (graph.source_path.empty())
    return invalid_argument("calibrating needs the model's file: build from a network parsed from a file");
  std::string path = cache;
  if (path.empty()) {
    path = (fs::temp_directory_path() / ("fulcrum-calibration-" + std::to_string(::getpid()) + ".calib")).string();
    temporary = true;
  }
  log_info("calibrating {} on {} ({}) -> {}", graph.source_path, config.calibration.data, config.calibration.calibrator,
           path);
  auto summary = calibrate(graph.source_path, path, config.calibration);
  if (!summary.is_ok()) return summary.status();
  return path;
}

Status attach_cache(ir::Graph& graph, const std::string& path, std::vector<std::string>* warnings) {
  FULCRUM_ASSIGN_OR_RETURN(quant::CalibrationCache cache, quant::CalibrationCache::load(path));
  if (!graph.source_path.empty()) {
    quant::CalibrationRecord expected;
    FULCRUM_ASSIGN_OR_RETURN(expected.model, quant::fingerprint_file(graph.source_path));
    for (const std::string& r : quant::warn_if_stale(path, expected))
      if (warnings != nullptr) warnings->push_back(path + ": " + r);
  }
  size_t unknown = 0;
  std::string example;
  for (const auto& e : cache.entries()) {
    if (graph.find_value(e.tensor) == nullptr) {
      if (unknown++ == 0) example = e.tensor;
      continue;
    }
    graph.tensor_scales.emplace(e.tensor, e.scale);  // a Q/DQ model's own scale wins
  }
  const size_t known = cache.entries().size() - unknown;
  if (!cache.entries().empty() && known == 0)
    return invalid_argument("{}: none of its {} tensors is in the model (e.g. '{}'): a cache for another model?", path,
                            cache.entries().size(), example);
  if (unknown > 0)
    warn(fmt::format("{}: {} of {} tensors are not in the model (e.g. '{}'){}", path, unknown, cache.entries().size(),
                     example, unknown * 2 > cache.entries().size() ? ": a cache for another model?" : ""),
         warnings);
  return Status::ok();
}

}  // namespace

bool wants_int8(const BuilderConfig& config) {
  if (config.int8) return true;
  if (config.precision_constraints == PrecisionConstraints::kNone) return false;
  for (const LayerPrecision& r : config.layer_precisions)
    if (r.precision == Precision::kInt8) return true;
  return false;
}

Status attach_int8_scales(ir::Graph& graph, const BuilderConfig& config, std::vector<std::string>* warnings) {
  if (!wants_int8(config)) return Status::ok();
  bool temporary = false;
  FULCRUM_ASSIGN_OR_RETURN(std::string cache, cache_for_build(graph, config, temporary));
  Status attached = cache.empty() ? Status::ok() : attach_cache(graph, cache, warnings);
  if (temporary) {
    std::error_code ec;
    fs::remove(cache, ec);
    fs::remove(quant::record_path(cache), ec);
  }
  FULCRUM_RETURN_IF_ERROR(attached);
  for (const auto& [tensor, amax] : config.dynamic_ranges) {
    if (graph.find_value(tensor) == nullptr)
      return invalid_argument("dynamic range for '{}': the model has no tensor of that name", tensor);
    if (!std::isfinite(amax) || amax <= 0)
      return invalid_argument("dynamic range for '{}' must be finite and positive, got {}", tensor, amax);
    graph.tensor_scales[tensor] = amax / 127.f;
  }
  if (graph.tensor_scales.empty())
    return invalid_argument(
        "INT8 needs scales: give a calibration cache, calibration data or dynamic ranges, or build a Q/DQ model");
  return Status::ok();
}

}  // namespace fulcrum::runtime
