// Latency statistics for `fulcrum bench`.
#pragma once

#include <vector>

namespace fulcrum::cli {

struct LatencyStats {
  double min = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

// The q-th percentile (0 <= q <= 100) of sorted values, interpolating linearly between the
// two nearest ranks as numpy.percentile does; 0 for no values.
double percentile(const std::vector<double>& sorted, double q);

// Summarizes per-run latencies (any order).
LatencyStats summarize(std::vector<double> latencies);

}  // namespace fulcrum::cli
