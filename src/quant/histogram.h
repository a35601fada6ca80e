// Histogram of |x| for INT8 calibration: a fixed number of equal bins over [0, range), built
// batch by batch in bounded memory.
//
// The range is always a power of two strictly above the largest |x| seen. When a batch brings a
// larger value, the range doubles (as often as needed) and adjacent bin pairs merge. Because the
// bin width is then a power of two too, binning is exact in floating point: a histogram grown
// over many batches is identical, count for count, to the one built in one shot over the final
// range, whatever the order of the batches. The price is resolution: the largest value lands in
// the upper half of the bins, so between bins/2 and bins bins cover the data.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fulcrum::quant {

// Tensors of at least this many values are scanned on the OpenMP pool.
inline constexpr int64_t kParallelMin = 1 << 16;

class Histogram {
 public:
  static constexpr int kDefaultBins = 2048;

  // `bins` must be an even number >= 2 (pairs merge when the range grows).
  explicit Histogram(int bins = kDefaultBins);

  // Adds |v| for every value. The caller has checked that all are finite.
  void add(std::span<const float> values);
  // The same, when the caller already knows max |v| of `values` (one pass fewer).
  void add(std::span<const float> values, float batch_max);
  // Adds another histogram's counts (same number of bins); the result is the histogram of
  // both data sets.
  void merge(const Histogram& other);

  int bins() const { return static_cast<int>(counts_.size()); }
  // Upper edge of the last bin: a power of two, or 0 while every value seen was 0.
  double range() const { return range_; }
  double bin_width() const { return range_ / bins(); }
  // The largest |x| seen, exactly.
  float max_abs() const { return max_abs_; }
  uint64_t total() const { return total_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  // One past the last non-empty bin (0 for an empty histogram).
  int used_bins() const;

 private:
  // Doubles the range until it lies strictly above `value`.
  void grow_to_cover(double value);

  std::vector<uint64_t> counts_;
  double range_ = 0.0;
  float max_abs_ = 0.0f;
  uint64_t total_ = 0;
};

}  // namespace fulcrum::quant
