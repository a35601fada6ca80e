// Offline placement of activation buffers in one arena. Given each buffer's size and the
// steps during which it is live, assigns offsets so that two buffers live at the same step
// never share bytes, keeping the arena small. The algorithm is the "greedy by size" planner
// of TensorFlow Lite (and of ONNX Runtime's memory patterns): buffers are placed largest
// first, each into the smallest gap left between the buffers already placed that it
// overlaps in time, or above the highest of them when no gap fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulcrum::plan {

// A buffer live from step `first` to step `last`, both inclusive.
struct BufferLifetime {
  size_t bytes = 0;
  int first = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per buffer, each a multiple of the alignment
  size_t arena_bytes = 0;       // the arena's size: the end of the highest buffer
};

// Offsets for `buffers`, in their order. `alignment` must be a power of two; every buffer
// is rounded up to it.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

// True when two lifetimes share a step.
inline bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace fulcrum::plan
