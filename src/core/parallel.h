// Threads for kernels: parallel_for splits a range over std::threads, at most
// thread_limit() of them. The limit is the engine's thread count (--threads), set for the
// duration of a run by ScopedThreadLimit, so kernels never oversubscribe the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace fulcrum {

// The cores this process may use (asked of the OS once).
int64_t hardware_threads();

// Threads a kernel may use now: the innermost ScopedThreadLimit on this thread, else the
// hardware's count.
int64_t thread_limit();

// Sets thread_limit() on this thread until destroyed (0: the hardware's count).
class ScopedThreadLimit {
 public:
  explicit ScopedThreadLimit(int64_t threads);
  ~ScopedThreadLimit();
  ScopedThreadLimit(const ScopedThreadLimit&) = delete;
  ScopedThreadLimit& operator=(const ScopedThreadLimit&) = delete;

 private:
  int64_t saved_;
};

// Calls fn(begin, end) on contiguous chunks of [0, count), on several threads when `work`
// (about one unit per multiply-add) is large enough to pay for starting them. Exceptions
// thrown by fn are rethrown on the calling thread.
void parallel_for(int64_t count, int64_t work, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace fulcrum
