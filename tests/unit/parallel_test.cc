#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/parallel.h"

namespace fulcrum {
namespace {

TEST(Parallel, CoversTheRangeExactlyOnce) {
  std::vector<std::atomic<int>> hits(1000);
  parallel_for(1000, int64_t{1} << 30, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(Parallel, ScopedLimitCapsThreadsAndNestedLoopsRunSerially) {
  ScopedThreadLimit limit(2);
  EXPECT_EQ(thread_limit(), 2);
  std::mutex m;
  std::set<std::thread::id> ids;
  parallel_for(64, int64_t{1} << 30, [&](int64_t, int64_t) {
    EXPECT_EQ(thread_limit(), 1) << "a loop inside a worker must not start threads of its own";
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_LE(ids.size(), 2u);
  {
    ScopedThreadLimit inner(1);
    EXPECT_EQ(thread_limit(), 1);
  }
  EXPECT_EQ(thread_limit(), 2);
}

TEST(Parallel, ExceptionsReachTheCaller) {
  EXPECT_THROW(parallel_for(8, int64_t{1} << 30,
                            [](int64_t b, int64_t) {
                              if (b > 0) throw std::runtime_error("worker failed");
                            }),
               std::runtime_error);
}

}  // namespace
}  // namespace fulcrum
