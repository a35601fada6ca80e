#include "quant/calibrator.h"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace fulcrum::quant {

Status Calibrator::observe(const std::string& tensor, const Tensor& batch) {
  if (batch.dtype() != DType::kFloat32)
    return invalid_argument("calibration tensor '{}': dtype {}, expected float32", tensor, dtype_name(batch.dtype()));
  const std::span<const float> values(batch.data<float>(), static_cast<size_t>(batch.numel()));
  // One pass, on the OpenMP pool the cpu backend's kernels use (it would otherwise spin idle
  // between layers while this thread scans every activation).
  const int64_t n = static_cast<int64_t>(values.size());
  float max_abs = 0.0f;
  int64_t non_finite = 0;
#pragma omp parallel for reduction(max : max_abs) reduction(+ : non_finite) schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float v = values[static_cast<size_t>(i)];
    if (std::isfinite(v))
      max_abs = std::max(max_abs, std::fabs(v));
    else
      ++non_finite;
  }
  for (size_t i = 0; non_finite > 0 && i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return invalid_argument("calibration tensor '{}': {} at element {} of a batch of shape {}", tensor,
                              std::isnan(values[i]) ? "NaN" : "infinity", i, shape_to_string(batch.shape()));
  auto [it, inserted] = stats_.try_emplace(tensor);
  if (inserted) order_.push_back(tensor);
  TensorStats& stats = it->second;
  stats.max_abs = std::max(stats.max_abs, max_abs);
  stats.count += values.size();
  if (needs_histogram()) {
    if (!stats.histogram) stats.histogram.emplace();
    stats.histogram->add(values, max_abs);
  }
  return Status::ok();
}

Result<float> Calibrator::amax(const std::string& tensor) const {
  const TensorStats* s = stats(tensor);
  if (s == nullptr) return not_found("calibration: tensor '{}' was never observed", tensor);
  // No threshold exceeds the largest value seen. (A bin edge can: the histogram's range
  // doubles, and for values near FLT_MAX, such as an attention mask's -3.4e38, it overflows.)
  return std::min(compute_amax(*s), s->max_abs);
}

Result<std::vector<float>> Calibrator::all_amax() const {
  const int64_t n = static_cast<int64_t>(order_.size());
  std::vector<float> out(order_.size(), 0.0f);
  std::vector<Status> errors(order_.size(), Status::ok());
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < n; ++i) {
    Result<float> a = amax(order_[static_cast<size_t>(i)]);
    if (a.is_ok())
      out[static_cast<size_t>(i)] = *a;
    else
      errors[static_cast<size_t>(i)] = a.status();
  }
  for (const Status& e : errors) FULCRUM_RETURN_IF_ERROR(e);
  return out;
}

const TensorStats* Calibrator::stats(const std::string& tensor) const {
  auto it = stats_.find(tensor);
  return it == stats_.end() ? nullptr : &it->second;
}

float entropy2_amax(const Histogram& histogram, int start_bin, int quant_bins) {
  const int stop = histogram.used_bins();
  const double width = histogram.bin_width();
  if (stop <= start_bin) return static_cast<float>(stop * width);  // too few bins to clip any
  std::vector<double> bins(histogram.counts().begin(), histogram.counts().begin() + stop);
  bins[0] = bins[1];
  double tail = 0.0;  // sum of bins[i:]
  for (int j = start_bin; j < stop; ++j) tail += bins[static_cast<size_t>(j)];

  std::vector<double> level_sum(static_cast<size_t>(quant_bins)), level_count(static_cast<size_t>(quant_bins));
  double best_divergence = std::numeric_limits<double>::infinity();
  int best_i = stop;
  for (int i = start_bin; i <= stop; ++i) {
    // Q: each level of the 128 holds the mass of its source bins, spread evenly over the
    // non-empty ones (an empty bin stays empty, as it would after dequantization).
    std::fill(level_sum.begin(), level_sum.end(), 0.0);
    std::fill(level_count.begin(), level_count.end(), 0.0);
    double p_total = tail, q_total = 0.0;
    for (int j = 0; j < i; ++j) {
      const double b = bins[static_cast<size_t>(j)];
      p_total += b;
      if (b == 0.0) continue;
      const size_t level = static_cast<size_t>(static_cast<int64_t>(j) * quant_bins / i);
      level_sum[level] += b;
      level_count[level] += 1.0;
      q_total += b;
    }
    double divergence = 0.0;
    for (int j = 0; j < i && divergence != std::numeric_limits<double>::infinity(); ++j) {
      const double b = bins[static_cast<size_t>(j)];
      const double p = (j == i - 1 ? b + tail : b) / p_total;
      if (p == 0.0) continue;
      const size_t level = static_cast<size_t>(static_cast<int64_t>(j) * quant_bins / i);
      const double q = b == 0.0 ? 0.0 : level_sum[level] / level_count[level] / q_total;
      divergence += q == 0.0 ? std::numeric_limits<double>::infinity() : p * std::log(p / q);
    }
    if (divergence <= best_divergence) {  // ties go to the larger threshold
      best_divergence = divergence;
      best_i = i;
    }
    if (i < stop) tail -= bins[static_cast<size_t>(i)];
  }
  return static_cast<float>(best_i * width);
}

float percentile_amax(const Histogram& histogram, double percentile) {
  const double total = static_cast<double>(histogram.total());
  if (total == 0.0) return 0.0f;
  const auto& counts = histogram.counts();
  double cumulative = 0.0;
  size_t bin = 0;
  for (; bin + 1 < counts.size(); ++bin) {
    cumulative += static_cast<double>(counts[bin]);
    if (cumulative / total >= percentile / 100.0) break;
  }
  return std::min(static_cast<float>((static_cast<double>(bin) + 1) * histogram.bin_width()), histogram.max_abs());
}

float mse_amax(const Histogram& histogram, int start_bin) {
  const int stop = histogram.used_bins();
  const double width = histogram.bin_width();
  const auto& counts = histogram.counts();
  double best_error = std::numeric_limits<double>::infinity();
  int best_i = stop;
  for (int i = std::min(start_bin, stop); i <= stop; ++i) {
    const double scale = i * width / 127.0;
    double error = 0.0;
    for (int j = 0; j < stop && scale > 0.0; ++j) {
      const double center = (j + 0.5) * width;
      const double dequantized = std::min(std::nearbyint(center / scale), 127.0) * scale;
      error += static_cast<double>(counts[static_cast<size_t>(j)]) * (dequantized - center) * (dequantized - center);
    }
    if (error < best_error) {
      best_error = error;
      best_i = i;
    }
  }
  return static_cast<float>(best_i * width);
}

float EntropyCalibrator2::compute_amax(const TensorStats& stats) const {
  return stats.histogram ? entropy2_amax(*stats.histogram) : 0.0f;
}

float PercentileCalibrator::compute_amax(const TensorStats& stats) const {
  return stats.histogram ? percentile_amax(*stats.histogram, percentile_) : 0.0f;
}

std::string PercentileCalibrator::spec() const { return fmt::format("percentile={}", percentile_); }

float MseCalibrator::compute_amax(const TensorStats& stats) const {
  return stats.histogram ? mse_amax(*stats.histogram) : 0.0f;
}

Result<std::unique_ptr<Calibrator>> make_calibrator(std::string_view spec) {
  if (spec == "entropy" || spec == "entropy2") return std::unique_ptr<Calibrator>(new EntropyCalibrator2());
  if (spec == "minmax") return std::unique_ptr<Calibrator>(new MinMaxCalibrator());
  if (spec == "mse") return std::unique_ptr<Calibrator>(new MseCalibrator());
  if (spec == "percentile") return std::unique_ptr<Calibrator>(new PercentileCalibrator());
  constexpr std::string_view kPercentile = "percentile=";
  if (spec.starts_with(kPercentile)) {
    const std::string_view number = spec.substr(kPercentile.size());
    double p = 0.0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
    if (ec != std::errc() || end != number.data() + number.size() || !(p > 0.0 && p <= 100.0))
      return invalid_argument("calibrator '{}': the percentile must be a number in (0, 100]", spec);
    return std::unique_ptr<Calibrator>(new PercentileCalibrator(p));
  }
  return invalid_argument("unknown calibrator '{}' (expected entropy, minmax, percentile[=P] or mse)", spec);
}

}  // namespace fulcrum::quant
