#include "quant/histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace fulcrum::quant {

Histogram::Histogram(int bins) : counts_(static_cast<size_t>(bins), 0) { assert(bins >= 2 && bins % 2 == 0); }

int Histogram::used_bins() const {
  for (int i = bins(); i > 0; --i)
    if (counts_[static_cast<size_t>(i - 1)] != 0) return i;
  return 0;
}

void Histogram::grow_to_cover(double value) {
  if (value < range_) return;
  if (range_ == 0.0) {
    // First non-zero value: the smallest power of two above it. Zeros seen so far are in bin 0
    // already, where they belong at any range.
    int exponent = 0;
    std::frexp(value, &exponent);  // value = f * 2^exponent, f in [0.5, 1)
    range_ = std::ldexp(1.0, exponent);
    return;
  }
  const size_t half = counts_.size() / 2;
  while (range_ <= value) {
    for (size_t i = 0; i < half; ++i) counts_[i] = counts_[2 * i] + counts_[2 * i + 1];
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(half), counts_.end(), 0);
    range_ *= 2.0;
  }
}

void Histogram::add(std::span<const float> values) {
  float batch_max = 0.0f;
  for (float v : values) batch_max = std::max(batch_max, std::fabs(v));
  add(values, batch_max);
}

void Histogram::add(std::span<const float> values, float batch_max) {
  max_abs_ = std::max(max_abs_, batch_max);
  total_ += values.size();
  if (batch_max > 0.0f) grow_to_cover(batch_max);
  if (range_ == 0.0) {
    counts_[0] += values.size();
    return;
  }
  // bins / range is a power of two, so |v| * scale is exact and floor() never lands on
  // bins: |v| < range.
  const double scale = bins() / range_;
  const auto bin = [scale](float v) { return static_cast<size_t>(std::fabs(static_cast<double>(v)) * scale); };
  const int64_t n = static_cast<int64_t>(values.size());
  if (n < kParallelMin) {
    for (float v : values) ++counts_[bin(v)];
    return;
  }
  // Each thread counts into its own bins (16 KiB), merged once.
#pragma omp parallel
  {
    std::vector<uint64_t> local(counts_.size(), 0);
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < n; ++i) ++local[bin(values[static_cast<size_t>(i)])];
#pragma omp critical
    for (size_t b = 0; b < local.size(); ++b) counts_[b] += local[b];
  }
}

void Histogram::merge(const Histogram& other) {
  assert(other.bins() == bins());
  // Bring both to the larger range (a range of 0 means every count is in bin 0, true at any range).
  Histogram theirs = other;
  const double target = std::max(range_, other.range_);
  for (Histogram* h : {this, &theirs}) {
    if (h->range_ == 0.0)
      h->range_ = target;
    else
      h->grow_to_cover(target / 2);
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += theirs.counts_[i];
  max_abs_ = std::max(max_abs_, other.max_abs_);
  total_ += other.total_;
}

}  // namespace fulcrum::quant
