// Row-parallel loops for the CPU backend's own kernels, on the OpenMP pool that oneDNN's
// primitives use. core's parallel_for starts std::threads per call; on a machine with as
// many cores as threads, those compete with the OpenMP workers that spin after every oneDNN
// primitive, and an elementwise kernel between two MatMuls ran several times slower on two
// threads than on one. Sharing the pool, the spinning workers take the rows at once.
// Without OpenMP this is core's parallel_for.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fulcrum::backends::cpu {

// Below this much work per thread (about one multiply-add or one float moved per unit) a
// second thread does not pay for itself: memory-bound kernels on BERT-base at batch 1
// (98K-element Adds, Transposes) stay on one thread, exp/erf kernels split.
inline constexpr int64_t kMinWorkPerPoolThread = int64_t{1} << 16;

// Calls fn(begin, end) on contiguous chunks of [0, count), on up to thread_limit() threads
// of the OpenMP pool when `work` is large enough. fn must not throw.
template <class Fn>
void parallel_rows(int64_t count, int64_t work, const Fn& fn) {
  const int64_t threads = std::min({thread_limit(), count, std::max<int64_t>(1, work / kMinWorkPerPoolThread)});
  if (threads <= 1) {
    if (count > 0) fn(int64_t{0}, count);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    fn(count * t / n, count * (t + 1) / n);
  }
#else
  parallel_for(count, work, fn);
#endif
}

}  // namespace fulcrum::backends::cpu
