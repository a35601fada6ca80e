// What every oneDNN kernel shares: the process's engine and stream, the thread count, the
// conversions between Fulcrum tensors and oneDNN memory, and a per-shape primitive cache.
#pragma once

#include <array>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "core/error.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends::cpu {

using Tag = dnnl::memory::format_tag;

dnnl::engine& dnnl_engine();
// A stream per calling thread: engines built by different threads (or contexts run
// concurrently) never share one.
dnnl::stream& dnnl_stream();

// Sets the oneDNN (OpenMP) thread count of the calling thread until destroyed; 0 means
// every core. oneDNN sizes its work split when a primitive is created, so the same count
// must be in force when a primitive is created and when it runs.
class ThreadScope {
 public:
  explicit ThreadScope(int64_t threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

// Runs `fn` (which may throw dnnl::error) and turns an exception into a Status.
template <class Fn>
auto catch_dnnl(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const dnnl::error& e) {
    return internal_error("oneDNN: {} (status {})", e.what(), static_cast<int>(e.status));
  }
}

dnnl::memory::dims to_dims(const Shape& shape);
// The dense row-major tag for a rank (a, ab, abc, ...).
Tag plain_tag(size_t rank);
dnnl::memory::desc plain_desc(const Shape& shape);
dnnl::memory::desc plain_desc(const Shape& shape, Tag tag);

// A oneDNN memory over a tensor's bytes (no copy). oneDNN never writes a source, so a
// read-only constant may be wrapped.
dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& desc);
// `src` in layout `want`: src itself when the layouts match, else a reordered copy.
dnnl::memory reorder_to(const dnnl::memory& src, const dnnl::memory::desc& want);
void reorder(const dnnl::memory& src, const dnnl::memory& dst);

// A kernel's constant weights: the tensor as the model holds it, and the copy packed for
// the primitive made at build time (for the input shape the graph declares). Primitives for
// other shapes pack from that copy, so once it exists the executor may free the constant:
// unless oneDNN wanted the constant's own layout, when the packed memory is the constant.
class PackedWeights {
 public:
  PackedWeights() = default;
  explicit PackedWeights(Tensor constant) : constant_(std::move(constant)) {}

  const Tensor& constant() const { return constant_; }
  bool defined() const { return constant_.defined() || packed_; }
  // The weights in layout `want`, from the packed copy, else from the constant laid out as
  // `user`; no copy where they are in that layout already.
  dnnl::memory in(const dnnl::memory::desc& user, const dnnl::memory::desc& want) const {
    return reorder_to(packed_ ? packed_ : wrap(constant_, user), want);
  }
  void keep(const dnnl::memory& packed) { packed_ = packed; }
  // Frees the constant when a packed copy holds the weights; false when it cannot.
  bool release() {
    if (!packed_ || packed_.get_data_handle() == constant_.raw()) return false;
    constant_ = Tensor();
    return true;
  }
  size_t packed_bytes() const { return packed_ ? packed_.get_desc().get_size() : 0; }

 private:
  Tensor constant_;
  dnnl::memory packed_;
};

// A primitive's execute arguments, held in place: the C++ API's execute() takes an
// unordered_map and copies it into a vector on every call (a dozen allocations per layer).
class ExecArgs {
 public:
  ExecArgs(std::initializer_list<std::pair<int, dnnl::memory>> args) {
    for (const auto& [arg, memory] : args) add(arg, memory);
  }
  // Throws dnnl::error past the capacity (no primitive takes that many).
  void add(int arg, const dnnl::memory& memory);
  void execute(const dnnl::primitive& primitive, dnnl::stream& stream) const;

 private:
  static constexpr int kCapacity = 16;
  std::array<dnnl::memory, kCapacity> memories_;
  std::array<dnnl_exec_arg_t, kCapacity> args_;
  int size_ = 0;
};

// A float32 tensor whose bytes are not initialized (the kernel writes all of them).
Tensor empty_float(Shape shape);

// The value type of a node's input: its dtype and, when known, its rank and fixed dims
// (-1 for a symbolic dim).
struct ValueInfo {
  DType dtype = DType::kUndefined;
  int64_t rank = -1;
  Shape dims;
  const Tensor* constant = nullptr;
};
ValueInfo value_info(const ir::Node& node, size_t i);

// Primitives created lazily, one per input shape seen (shapes are known at run time).
// Kernels may run concurrently from several execution contexts, hence the lock.
template <class Entry>
class ShapeCache {
 public:
  template <class Make>
  Result<std::shared_ptr<const Entry>> get(const std::vector<Shape>& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    Result<Entry> made = catch_dnnl([&]() -> Result<Entry> { return make(); });
    if (!made.is_ok()) return made.status();
    auto entry = std::make_shared<const Entry>(std::move(made).value());
    entries_.emplace(key, entry);
    return entry;
  }

 private:
  std::mutex mutex_;
  std::map<std::vector<Shape>, std::shared_ptr<const Entry>> entries_;
};

}  // namespace fulcrum::backends::cpu
