// The side record of a calibration cache: what the cache was computed from, so that a cache
// reused after the model, the calibrator or the preprocessing changed draws a warning instead
// of silently giving bad scales. TensorRT's cache format has no room for this, so it lives
// next to the cache: `model.calib` -> `model.calib.json`.
//
//   {"format": "fulcrum-calibration-record", "version": 1,
//    "model": "fnv1a64:…", "calibrator": "entropy", "preprocessing": "imagenet 224x224 rgb",
//    "data": "calib/ (500 samples)", "cache": "fnv1a64:…",
//    "warnings": ["tensor 'x': outliers: …", …]}
//
// "warnings" (the INT8 suitability warnings of calibration, quant/suitability.h) came after
// version 1's first records: a record without it loads with no warnings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"

namespace fulcrum::quant {

struct CalibrationRecord {
  std::string model;                       // fingerprint of the model file
  std::string calibrator;                  // Calibrator::spec()
  std::string preprocessing;               // CalibrationData's description of its preprocessing
  std::string data;                        // where the samples came from (informational)
  std::string cache;                       // fingerprint of the cache text as written (detects hand edits)
  std::vector<std::string> warnings = {};  // INT8 suitability warnings found when calibrating
};

// A 64-bit FNV-1a digest, "fnv1a64:<16 hex digits>": a fingerprint for staleness, not security.
std::string fingerprint_bytes(std::string_view bytes);
// The same over a file's bytes, streamed.
Result<std::string> fingerprint_file(const std::string& path);

// "<cache_path>.json"
std::string record_path(const std::string& cache_path);
Status save_record(const std::string& path, const CalibrationRecord& record);
Result<CalibrationRecord> load_record(const std::string& path);

// Why a cache whose record is `recorded` does not fit what the build now uses (`expected`),
// one sentence per difference; empty when it fits. `data` is informational and not compared;
// an empty `calibrator`, `preprocessing` or `cache` in `expected` skips that comparison (a
// build given only a cache cares about the model it was made for, not how it was made).
std::vector<std::string> stale_reasons(const CalibrationRecord& recorded, const CalibrationRecord& expected);

// Loads the record next to `cache_path` and logs one warning per reason the cache is stale
// (or that it has no record). Returns the reasons; never fails the build: a cache written by
// TensorRT has no record and is used as the user gave it.
std::vector<std::string> warn_if_stale(const std::string& cache_path, const CalibrationRecord& expected);

// The suitability warnings recorded next to `cache_path`, for a build that reuses the cache
// without calibrating: empty when there is no readable record (warn_if_stale reports that).
std::vector<std::string> recorded_warnings(const std::string& cache_path);
// The same, each logged as a warning naming the cache; returns them.
std::vector<std::string> warn_recorded(const std::string& cache_path);

}  // namespace fulcrum::quant
