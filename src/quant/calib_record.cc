#include "quant/calib_record.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/logging.h"

namespace fulcrum::quant {
namespace {

constexpr std::string_view kFormat = "fulcrum-calibration-record";
constexpr int kVersion = 1;

struct Fnv1a64 {
  uint64_t state = 0xcbf29ce484222325ull;
  void update(const char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      state ^= static_cast<unsigned char>(data[i]);
      state *= 0x100000001b3ull;
    }
  }
  std::string digest() const { return fmt::format("fnv1a64:{:016x}", state); }
};

}  // namespace

std::string fingerprint_bytes(std::string_view bytes) {
  Fnv1a64 h;
  h.update(bytes.data(), bytes.size());
  return h.digest();
}

Result<std::string> fingerprint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("{}: cannot open file to fingerprint", path);
  Fnv1a64 h;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    h.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return io_error("{}: read failed", path);
  return h.digest();
}

std::string record_path(const std::string& cache_path) { return cache_path + ".json"; }

Status save_record(const std::string& path, const CalibrationRecord& record) {
  const nlohmann::ordered_json j = {
      {"format", kFormat},
      {"version", kVersion},
      {"model", record.model},
      {"calibrator", record.calibrator},
      {"preprocessing", record.preprocessing},
      {"data", record.data},
      {"cache", record.cache},
      {"warnings", record.warnings},
  };
  std::ofstream out(path, std::ios::binary);
  if (!out) return io_error("{}: cannot create calibration record", path);
  out << j.dump(2) << '\n';
  if (!out) return io_error("{}: write failed", path);
  return Status::ok();
}

Result<CalibrationRecord> load_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{}: no calibration record", path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return parse_error("{}: calibration record is not valid JSON", path);
  if (j.value("format", "") != kFormat)
    return parse_error("{}: not a calibration record (format is not '{}')", path, kFormat);
  if (j.value("version", 0) != kVersion)
    return parse_error("{}: calibration record version {} (this build reads {})", path, j.value("version", 0),
                       kVersion);
  CalibrationRecord r;
  for (auto [key, field] : {std::pair{"model", &r.model},
                            {"calibrator", &r.calibrator},
                            {"preprocessing", &r.preprocessing},
                            {"data", &r.data},
                            {"cache", &r.cache}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return parse_error("{}: calibration record has no string '{}'", path, key);
    *field = it->get<std::string>();
  }
  if (auto it = j.find("warnings"); it != j.end()) {
    if (!it->is_array()) return parse_error("{}: calibration record's 'warnings' is not an array", path);
    for (const nlohmann::json& w : *it) {
      if (!w.is_string()) return parse_error("{}: calibration record's 'warnings' holds a non-string", path);
      r.warnings.push_back(w.get<std::string>());
    }
  }
  return r;
}

std::vector<std::string> stale_reasons(const CalibrationRecord& recorded, const CalibrationRecord& expected) {
  std::vector<std::string> reasons;
  if (recorded.model != expected.model)
    reasons.push_back("it was calibrated for another model (or another version of it)");
  if (!expected.calibrator.empty() && recorded.calibrator != expected.calibrator)
    reasons.push_back(fmt::format("it was calibrated with '{}', not '{}'", recorded.calibrator, expected.calibrator));
  if (!expected.preprocessing.empty() && recorded.preprocessing != expected.preprocessing)
    reasons.push_back(fmt::format("it was calibrated with preprocessing '{}', not '{}'", recorded.preprocessing,
                                  expected.preprocessing));
  if (!expected.cache.empty() && recorded.cache != expected.cache)
    reasons.push_back("the cache was edited after calibration");
  return reasons;
}

std::vector<std::string> warn_if_stale(const std::string& cache_path, const CalibrationRecord& expected) {
  const std::string path = record_path(cache_path);
  Result<CalibrationRecord> recorded = load_record(path);
  if (!recorded.is_ok()) {
    std::string reason = recorded.status().code() == StatusCode::kNotFound
                             ? "it has no calibration record, so whether it fits this model is unknown"
                             : recorded.status().message();
    log_warning("calibration cache {}: {}", cache_path, reason);
    return {reason};
  }
  std::vector<std::string> reasons = stale_reasons(*recorded, expected);
  for (const std::string& reason : reasons) log_warning("calibration cache {} may be stale: {}", cache_path, reason);
  return reasons;
}

std::vector<std::string> recorded_warnings(const std::string& cache_path) {
  Result<CalibrationRecord> record = load_record(record_path(cache_path));
  return record.is_ok() ? std::move(record->warnings) : std::vector<std::string>{};
}

std::vector<std::string> warn_recorded(const std::string& cache_path) {
  std::vector<std::string> warnings = recorded_warnings(cache_path);
  for (const std::string& w : warnings) log_warning("INT8 suitability ({}): {}", cache_path, w);
  return warnings;
}

}  // namespace fulcrum::quant
