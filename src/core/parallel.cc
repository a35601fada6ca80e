#include "core/parallel.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace fulcrum {
namespace {

// Below this many multiply-adds per thread, starting a thread costs more than it saves.
constexpr int64_t kMinWorkPerThread = int64_t{1} << 18;

thread_local int64_t t_limit = 0;

}  // namespace

// glibc answers hardware_concurrency() by reading /sys/devices/system/cpu/online each time
// (an open, read and close: several microseconds); kernels ask on every run, so ask once.
int64_t hardware_threads() {
  static const int64_t threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return threads;
}

int64_t thread_limit() { return t_limit > 0 ? t_limit : hardware_threads(); }

ScopedThreadLimit::ScopedThreadLimit(int64_t threads) : saved_(t_limit) { t_limit = threads > 0 ? threads : 0; }
ScopedThreadLimit::~ScopedThreadLimit() { t_limit = saved_; }

void parallel_for(int64_t count, int64_t work, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t threads = std::min({thread_limit(), count, std::max<int64_t>(1, work / kMinWorkPerThread)});
  if (threads <= 1) {
    if (count > 0) fn(0, count);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  auto run = [&](int64_t t) {
    try {
      fn(count * t / threads, count * (t + 1) / threads);
    } catch (...) {
      errors[static_cast<size_t>(t)] = std::current_exception();
    }
  };
  // Worker threads start with no limit of their own: a kernel nested inside runs serially.
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back([&run, t] {
      ScopedThreadLimit serial(1);
      run(t);
    });
  {
    ScopedThreadLimit serial(1);
    run(0);
  }
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace fulcrum
