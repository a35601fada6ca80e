#include "quant/calib_cache.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "quant/calibrator.h"

namespace fulcrum::quant {
namespace {

constexpr std::string_view kKnownAlgorithms[] = {
    "EntropyCalibration2", "EntropyCalibration",    "MinMaxCalibration",
    "LegacyCalibration",   "PercentileCalibration", "MSECalibration",
};

bool is_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

bool valid_scale(float scale) { return std::isfinite(scale) && scale > 0.0f; }

}  // namespace

std::string float_to_hex(float value) { return fmt::format("{:08x}", std::bit_cast<uint32_t>(value)); }

std::optional<float> hex_to_float(std::string_view hex) {
  if (hex.empty() || hex.size() > 8) return std::nullopt;
  uint32_t bits = 0;
  auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), bits, 16);
  if (ec != std::errc() || end != hex.data() + hex.size()) return std::nullopt;
  return std::bit_cast<float>(bits);
}

CalibrationCache::CalibrationCache(std::string algorithm, std::string trt_version)
    : algorithm_(std::move(algorithm)), trt_version_(std::move(trt_version)) {}

bool CalibrationCache::is_known_algorithm(std::string_view algorithm) {
  for (std::string_view known : kKnownAlgorithms)
    if (algorithm == known) return true;
  return false;
}

Result<CalibrationCache> CalibrationCache::parse(std::string_view text, const std::string& source) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // written on Windows
    lines.push_back(line);
    pos = end + 1;
  }
  if (lines.empty()) return parse_error("{}: empty calibration cache", source);

  const std::string_view header = lines[0];
  const size_t dash = header.find('-', 4);
  if (!header.starts_with("TRT-") || dash == std::string_view::npos || !is_digits(header.substr(4, dash - 4)) ||
      !is_known_algorithm(header.substr(dash + 1)))
    return parse_error(
        "{}:1: not a TensorRT calibration cache header: '{}' (expected TRT-<version>-<algorithm> with algorithm "
        "EntropyCalibration2, EntropyCalibration, MinMaxCalibration, LegacyCalibration, PercentileCalibration or "
        "MSECalibration)",
        source, header);
  CalibrationCache cache{std::string(header.substr(dash + 1)), std::string(header.substr(4, dash - 4))};

  std::unordered_set<std::string> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string where = fmt::format("{}:{}", source, i + 1);
    if (line.empty()) continue;
    const size_t colon = line.rfind(": ");
    if (colon == std::string_view::npos || colon == 0)
      return parse_error("{}: malformed line '{}' (expected '<tensor>: <8 hex digits>')", where, line);
    const std::string tensor(line.substr(0, colon));
    const std::string_view hex = line.substr(colon + 2);
    std::optional<float> scale = hex_to_float(hex);
    if (!scale) return parse_error("{}: tensor '{}': scale '{}' is not 8 hex digits of a float32", where, tensor, hex);
    if (!valid_scale(*scale))
      return parse_error("{}: tensor '{}': scale {} is not a finite positive number", where, tensor, *scale);
    if (!seen.insert(tensor).second) return parse_error("{}: tensor '{}' appears twice", where, tensor);
    cache.entries_.push_back({tensor, *scale});
  }
  return cache;
}

Result<CalibrationCache> CalibrationCache::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("{}: cannot open calibration cache", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return io_error("{}: read failed", path);
  return parse(text.str(), path);
}

std::string CalibrationCache::serialize() const {
  std::string out = fmt::format("TRT-{}-{}\n", trt_version_, algorithm_);
  for (const Entry& e : entries_) out += fmt::format("{}: {}\n", e.tensor, float_to_hex(e.scale));
  return out;
}

Status CalibrationCache::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) return io_error("{}: cannot create calibration cache", path);
  const std::string text = serialize();
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) return io_error("{}: write failed", path);
  return Status::ok();
}

Result<CalibrationCache> CalibrationCache::from_calibrator(const Calibrator& calibrator, std::string trt_version) {
  CalibrationCache cache{std::string(calibrator.algorithm()), std::move(trt_version)};
  FULCRUM_ASSIGN_OR_RETURN(std::vector<float> amax, calibrator.all_amax());
  const std::vector<std::string>& tensors = calibrator.tensor_names();
  for (size_t i = 0; i < tensors.size(); ++i)
    FULCRUM_RETURN_IF_ERROR(cache.set_scale(tensors[i], (amax[i] > 0.0f ? amax[i] : 1.0f) / 127.0f));
  return cache;
}

Status CalibrationCache::set_scale(const std::string& tensor, float scale) {
  if (tensor.empty() || tensor.find('\n') != std::string::npos)
    return invalid_argument("calibration cache: tensor name '{}' cannot be written to a cache line", tensor);
  if (!valid_scale(scale))
    return invalid_argument("calibration cache: tensor '{}': scale {} is not a finite positive number", tensor, scale);
  for (Entry& e : entries_) {
    if (e.tensor == tensor) {
      e.scale = scale;
      return Status::ok();
    }
  }
  entries_.push_back({tensor, scale});
  return Status::ok();
}

std::optional<float> CalibrationCache::scale(std::string_view tensor) const {
  for (const Entry& e : entries_)
    if (e.tensor == tensor) return e.scale;
  return std::nullopt;
}

std::optional<float> CalibrationCache::amax(std::string_view tensor) const {
  std::optional<float> s = scale(tensor);
  if (!s) return std::nullopt;
  return *s * 127.0f;
}

}  // namespace fulcrum::quant
