#include "bench_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fulcrum::cli {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double rank = q / 100.0 * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

LatencyStats summarize(std::vector<double> latencies) {
  LatencyStats s;
  if (latencies.empty()) return s;
  std::sort(latencies.begin(), latencies.end());
  s.min = latencies.front();
  s.max = latencies.back();
  s.mean = std::accumulate(latencies.begin(), latencies.end(), 0.0) / static_cast<double>(latencies.size());
  s.median = percentile(latencies, 50);
  s.p90 = percentile(latencies, 90);
  s.p95 = percentile(latencies, 95);
  s.p99 = percentile(latencies, 99);
  return s;
}

}  // namespace fulcrum::cli
