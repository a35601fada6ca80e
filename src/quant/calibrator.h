// INT8 calibrators: each turns the values a tensor takes on calibration data into `amax`, the
// magnitude that maps to 127 in symmetric INT8 (scale = amax / 127).
//
// One interface, streaming: call observe(tensor, batch) for every batch of every tensor, then
// amax(tensor). Memory is bounded whatever the data size: a float per tensor (MinMax) or a
// 2048-bin |x| histogram per tensor (the others, see histogram.h).
//
//   EntropyCalibration2  TensorRT's default: the threshold minimising the KL divergence between
//                        the histogram and its 128-level quantization (entropy2_amax).
//   MinMax               max |x|: no clipping, so one outlier spends the whole INT8 range.
//   Percentile           the p-th percentile of |x| (default 99.99).
//   MSE                  the threshold minimising the mean squared quantization error.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "quant/histogram.h"

namespace fulcrum::quant {

// What a calibrator has seen of one tensor.
struct TensorStats {
  float max_abs = 0.0f;
  uint64_t count = 0;
  std::optional<Histogram> histogram;  // only for the calibrators that need one
};

class Calibrator {
 public:
  virtual ~Calibrator() = default;

  // The algorithm name of a calibration cache header: TensorRT's "EntropyCalibration2" and
  // "MinMaxCalibration", or Fulcrum's own for algorithms TensorRT lacks.
  virtual std::string_view algorithm() const = 0;
  // The calibrator and its parameters as the CLI spells them ("percentile=99.99"); it goes
  // into the calibration record's fingerprint.
  virtual std::string spec() const = 0;

  // Adds one batch of a float32 tensor. A NaN or infinity is an error naming the tensor and
  // the element, and leaves the statistics unchanged.
  Status observe(const std::string& tensor, const Tensor& batch);
  // The calibrated amax of a tensor; NotFound if it was never observed. 0 for a tensor that
  // was always zero.
  Result<float> amax(const std::string& tensor) const;
  // amax of every tensor, in tensor_names() order, computed on the OpenMP pool (the KL search
  // of EntropyCalibration2 dominates calibration's own time).
  Result<std::vector<float>> all_amax() const;
  // Tensors in the order they were first observed (the order a cache is written in).
  const std::vector<std::string>& tensor_names() const { return order_; }
  const TensorStats* stats(const std::string& tensor) const;

 protected:
  virtual bool needs_histogram() const { return true; }
  virtual float compute_amax(const TensorStats& stats) const = 0;

 private:
  std::map<std::string, TensorStats> stats_;
  std::vector<std::string> order_;
};

// The algorithms on a histogram, for the calibrators and for tests.
//
// TensorRT's EntropyCalibration2 as NVIDIA publishes it (pytorch-quantization's
// _compute_amax_entropy): for every threshold i from `start_bin` to the last non-empty bin,
// P = the first i bins with the tail folded into bin i-1, Q = P's bins merged into
// `quant_bins` levels and expanded back over the non-empty bins; the amax is the upper edge of
// the threshold of least KL(P || Q), the largest such on ties. Bin 0 takes bin 1's count first,
// so a spike of exact zeros (ReLU) does not dominate.
float entropy2_amax(const Histogram& histogram, int start_bin = 128, int quant_bins = 128);
// The upper edge of the bin holding the `percentile`-th percentile of |x|, at most max |x|.
float percentile_amax(const Histogram& histogram, double percentile);
// The threshold (a bin edge from `start_bin` on) minimising sum(count * (qdq(center) - center)^2)
// over the bin centres, with qdq the symmetric INT8 round trip.
float mse_amax(const Histogram& histogram, int start_bin = 128);

class EntropyCalibrator2 final : public Calibrator {
 public:
  std::string_view algorithm() const override { return "EntropyCalibration2"; }
  std::string spec() const override { return "entropy"; }

 protected:
  float compute_amax(const TensorStats& stats) const override;
};

class MinMaxCalibrator final : public Calibrator {
 public:
  std::string_view algorithm() const override { return "MinMaxCalibration"; }
  std::string spec() const override { return "minmax"; }

 protected:
  bool needs_histogram() const override { return false; }
  float compute_amax(const TensorStats& stats) const override { return stats.max_abs; }
};

class PercentileCalibrator final : public Calibrator {
 public:
  static constexpr double kDefaultPercentile = 99.99;
  // `percentile` in (0, 100]; make_calibrator checks it for user input.
  explicit PercentileCalibrator(double percentile = kDefaultPercentile) : percentile_(percentile) {}
  std::string_view algorithm() const override { return "PercentileCalibration"; }
  std::string spec() const override;
  double percentile() const { return percentile_; }

 protected:
  float compute_amax(const TensorStats& stats) const override;

 private:
  double percentile_;
};

class MseCalibrator final : public Calibrator {
 public:
  std::string_view algorithm() const override { return "MSECalibration"; }
  std::string spec() const override { return "mse"; }

 protected:
  float compute_amax(const TensorStats& stats) const override;
};

// A calibrator from its CLI spelling: "entropy" (or "entropy2"), "minmax", "percentile",
// "percentile=<p>" with p in (0, 100], "mse".
Result<std::unique_ptr<Calibrator>> make_calibrator(std::string_view spec);

}  // namespace fulcrum::quant
