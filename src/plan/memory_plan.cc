#include "plan/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace fulcrum::plan {
namespace {

size_t round_up(size_t bytes, size_t alignment) { return (bytes + alignment - 1) & ~(alignment - 1); }

struct Placed {
  size_t offset;
  size_t end;
};

// The lowest offset of the smallest gap (between `busy` intervals, sorted by offset) that
// holds `bytes`; the end of the highest interval when none does.
size_t best_fit(const std::vector<Placed>& busy, size_t bytes) {
  size_t best = std::numeric_limits<size_t>::max();
  size_t best_gap = std::numeric_limits<size_t>::max();
  size_t cursor = 0;  // the first free byte above the intervals seen so far
  for (const Placed& p : busy) {
    if (p.offset > cursor) {
      const size_t gap = p.offset - cursor;
      if (gap >= bytes && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
    }
    cursor = std::max(cursor, p.end);
  }
  return best_gap == std::numeric_limits<size_t>::max() ? cursor : best;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  // Largest first (ties: earlier first), so the big buffers that set the arena's size are
  // packed tightly and the small ones fill the gaps they leave.
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });

  std::vector<size_t> placed;  // indices of placed buffers
  std::vector<Placed> busy;
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t bytes = round_up(std::max<size_t>(buffer.bytes, 1), alignment);
    busy.clear();
    for (size_t other : placed)
      if (lifetimes_overlap(buffer, buffers[other]))
        busy.push_back({plan.offsets[other],
                        plan.offsets[other] + round_up(std::max<size_t>(buffers[other].bytes, 1), alignment)});
    std::sort(busy.begin(), busy.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    const size_t offset = best_fit(busy, bytes);
    plan.offsets[index] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + bytes);
    placed.push_back(index);
  }
  return plan;
}

}  // namespace fulcrum::plan
