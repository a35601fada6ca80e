// INT8 calibration: runs a model over calibration data, observes every float32 activation and
// writes a TensorRT-format calibration cache (plus Fulcrum's side record, `<cache>.json`).
// src/runtime/calibrate.cc implements it on src/quant's calibrators and cache.
//
// The model runs as imported, without build passes: every tensor of the ONNX model exists under
// its own name, which is what a calibration cache is keyed on (a built engine's fused layers
// never materialize the tensors they fuse). The cpu backend's kernels run it where they can.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fulcrum/status.h"

namespace fulcrum {

struct CalibrationProgress {
  int64_t batch = 0;          // batches done, this one included
  int64_t batches = 0;        // batches in all
  int64_t samples = 0;        // samples done
  int64_t total_samples = 0;  // samples in all
};

struct CalibrationOptions {
  std::string data;                    // a folder of images or .npy files, a .npy or a .npz
  std::string calibrator = "entropy";  // entropy, minmax, percentile[=P], mse
  int64_t batch_size = 8;
  int64_t max_samples = 0;                                   // 0: all
  std::string preset = "none";                               // image preprocessing: imagenet, unit; none refuses images
  int threads = 0;                                           // threads an inference may use; 0: every core
  std::function<void(const CalibrationProgress&)> progress;  // after each batch, if set
};

struct CalibrationSummary {
  std::string algorithm;  // the cache header's ("EntropyCalibration2")
  int64_t batches = 0;
  int64_t samples = 0;
  size_t tensors = 0;  // entries in the cache
  std::string data;    // where the samples came from
  std::string cache_path, record_path;
  // INT8 suitability warnings (outliers, Softmax range, saturation), one line each, naming
  // the tensor; also logged, and kept in the record for builds that reuse the cache.
  std::vector<std::string> warnings;
};

// Calibrates the ONNX model at `model_path` and writes the cache to `cache_path` and its record
// to `cache_path + ".json"`. Both are written whole to a temporary file and renamed, so a
// failure (bad data, a NaN activation, ...) leaves neither behind, nor an older pair changed.
Result<CalibrationSummary> calibrate(const std::string& model_path, const std::string& cache_path,
                                     const CalibrationOptions& options);

}  // namespace fulcrum
