// Calibration cache in TensorRT's text format, read and written byte for byte as TensorRT does:
//
//   TRT-8601-EntropyCalibration2
//   input: 3c010204
//   /conv1/Conv_output_0: 3d8a2b1c
//
// The header names the TensorRT version (any number is accepted) and the algorithm; each
// following line is `<tensor name>: <scale>` with the scale (amax / 127) as the 8 lowercase
// hex digits of its IEEE float32 bits. Tensor names may contain spaces and colons
// ("(Unnamed Layer* 8) [Constant]_output"): the last ": " on a line separates the scale.
// Every line, the last included, ends in '\n'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"

namespace fulcrum::quant {

class Calibrator;

class CalibrationCache {
 public:
  // The version written by default: TensorRT 8.6.1's number. TensorRT 10 spells 10.x.y as
  // 10xxyy (TRT-100300-...); a cache read from a file keeps its own.
  static constexpr std::string_view kDefaultTrtVersion = "8601";

  struct Entry {
    std::string tensor;
    float scale;
  };

  explicit CalibrationCache(std::string algorithm = "EntropyCalibration2",
                            std::string trt_version = std::string(kDefaultTrtVersion));

  // The algorithms a header may name: TensorRT's four, and Fulcrum's percentile and MSE
  // calibrators (which TensorRT does not have, so it will not read those caches).
  static bool is_known_algorithm(std::string_view algorithm);

  // Parses cache text; `source` (a file name) goes into every error, with the line number.
  static Result<CalibrationCache> parse(std::string_view text, const std::string& source);
  static Result<CalibrationCache> load(const std::string& path);
  std::string serialize() const;
  Status save(const std::string& path) const;

  // The amax of every tensor a calibrator observed, in observation order. An all-zero tensor
  // gets amax 1 (scale 1/127, as TensorRT writes for a tensor of unknown range): any scale
  // represents zero exactly, and a zero scale would not be a valid cache entry.
  static Result<CalibrationCache> from_calibrator(const Calibrator& calibrator,
                                                  std::string trt_version = std::string(kDefaultTrtVersion));

  // Adds or replaces a tensor's scale; it must be finite and positive.
  Status set_scale(const std::string& tensor, float scale);
  std::optional<float> scale(std::string_view tensor) const;
  // scale * 127: the amax the engine quantizes with.
  std::optional<float> amax(std::string_view tensor) const;

  const std::string& algorithm() const { return algorithm_; }
  const std::string& trt_version() const { return trt_version_; }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::string algorithm_;
  std::string trt_version_;
  std::vector<Entry> entries_;  // in file order
};

// The float32 bits of `value` as 8 lowercase hex digits, and back (nullopt if `hex` is not
// 1 to 8 hex digits).
std::string float_to_hex(float value);
std::optional<float> hex_to_float(std::string_view hex);

}  // namespace fulcrum::quant
