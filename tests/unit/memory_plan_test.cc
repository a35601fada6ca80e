#include "plan/memory_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace fulcrum::plan {
namespace {

size_t rounded(size_t bytes) { return (std::max<size_t>(bytes, 1) + 63) / 64 * 64; }

// Every invariant a plan must keep: aligned offsets, no shared byte between buffers live at
// the same step, everything inside the arena, and no bigger than placing them end to end.
void expect_valid(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  size_t sum = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + rounded(buffers[i].bytes), plan.arena_bytes) << "buffer " << i;
    sum += rounded(buffers[i].bytes);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      if (!lifetimes_overlap(buffers[i], buffers[j])) continue;
      const bool disjoint = plan.offsets[i] + rounded(buffers[i].bytes) <= plan.offsets[j] ||
                            plan.offsets[j] + rounded(buffers[j].bytes) <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " are live together and share bytes";
    }
  }
  EXPECT_LE(plan.arena_bytes, sum);
}

// The most bytes live at any one step: no plan can do with less.
size_t peak_live(const std::vector<BufferLifetime>& buffers) {
  int steps = 0;
  for (const auto& b : buffers) steps = std::max(steps, b.last + 1);
  size_t peak = 0;
  for (int t = 0; t < steps; ++t) {
    size_t live = 0;
    for (const auto& b : buffers)
      if (b.first <= t && t <= b.last) live += rounded(b.bytes);
    peak = std::max(peak, live);
  }
  return peak;
}

TEST(MemoryPlanTest, EmptyPlanHasNoArena) {
  const MemoryPlan plan = plan_memory({});
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
}

TEST(MemoryPlanTest, BuffersLiveAtDifferentStepsShareBytes) {
  const std::vector<BufferLifetime> buffers = {{1000, 0, 1}, {1000, 2, 3}, {1000, 4, 5}};
  const MemoryPlan plan = plan_memory(buffers);
  expect_valid(buffers, plan);
  EXPECT_EQ(plan.offsets, (std::vector<size_t>{0, 0, 0}));
  EXPECT_EQ(plan.arena_bytes, rounded(1000));
}

TEST(MemoryPlanTest, BuffersLiveTogetherDoNotShareBytes) {
  // A chain x0 -> x1 -> x2 where each step reads the previous output: neighbours overlap at
  // the step that reads one and writes the other, so two buffers alternate.
  const std::vector<BufferLifetime> buffers = {{4096, 0, 1}, {4096, 1, 2}, {4096, 2, 3}, {4096, 3, 4}};
  const MemoryPlan plan = plan_memory(buffers);
  expect_valid(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * 4096u);
}

TEST(MemoryPlanTest, SmallBufferTakesTheSmallestGapThatFits) {
  const std::vector<BufferLifetime> buffers = {
      {1024, 0, 9},  // A
      {512, 0, 0},   // freed after step 0
      {512, 0, 9},   // B
      {2048, 0, 0},  // freed after step 0
      {4096, 0, 9},  // C
      {448, 5, 6},   // fits both gaps the freed buffers leave
  };
  const MemoryPlan plan = plan_memory(buffers);
  expect_valid(buffers, plan);
  // Largest first: C at 0, the 2048 at 4096, A at 6144, the first 512 at 7168, B at 7680.
  EXPECT_EQ(plan.offsets, (std::vector<size_t>{6144, 7168, 7680, 4096, 0, 7168}));
  // At step 5 the gaps are [4096, 6144) and [7168, 7680): best fit takes the second (first
  // fit would take the first), and the arena does not grow.
  EXPECT_EQ(plan.arena_bytes, 8192u);
}

TEST(MemoryPlanTest, RandomLifetimesNeverShareLiveBytes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 40);
      buffers.push_back({1 + rng() % 100000, first, first + static_cast<int>(rng() % 8)});
    }
    const MemoryPlan plan = plan_memory(buffers);
    expect_valid(buffers, plan);
    EXPECT_GE(plan.arena_bytes, peak_live(buffers));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace fulcrum::plan
