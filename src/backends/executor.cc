#include "backends/executor.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unordered_map>

#include "core/error.h"
#include "core/float16_convert.h"
#include "core/parallel.h"
#include "plan/memory_plan.h"

namespace fulcrum::backends {
namespace {

// Plans kept per state; a model run with more input signatures than this starts over.
constexpr size_t kMaxPlans = 16;
constexpr size_t kAlignment = 64;

// What stays of a constant whose bytes were freed: the dtype and shape kernels check.
Tensor without_data(const Tensor& t) { return Tensor::view(t.dtype(), t.shape(), nullptr, nullptr); }

Tensor heap_tensor(DType dtype, Shape shape, size_t bytes) {
  void* data = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  if (data == nullptr) throw std::bad_alloc();
  std::shared_ptr<const void> owner(data, [](const void* p) { std::free(const_cast<void*>(p)); });
  return Tensor::view(dtype, std::move(shape), std::move(owner), data);
}

// True when `view`'s first byte lies inside `base`'s bytes: a kernel returned a view of it.
bool points_into(const Tensor& view, const Tensor& base) {
  const auto p = reinterpret_cast<uintptr_t>(view.raw());
  const auto b = reinterpret_cast<uintptr_t>(base.raw());
  return p != 0 && b != 0 && p >= b && p < b + std::max<size_t>(base.nbytes(), 1);
}

}  // namespace

// Serves a step's allocate_output* calls: from the arena where the plan placed the output,
// else from the heap (recording the size when a plan is being recorded).
class Executor::StepAllocator : public OutputAllocator {
 public:
  StepAllocator(ExecutorState& state, const ExecutorState::Plan* plan, std::vector<size_t>* recorded)
      : state_(state), plan_(plan), recorded_(recorded) {}
  void begin(const Step& step) {
    step_ = &step;
    served_ = 0;
    allocated_.clear();
  }
  // Whether `data` is memory this allocator handed out during the current step.
  bool allocated_this_step(const void* data) const {
    return std::find(allocated_.begin(), allocated_.end(), data) != allocated_.end();
  }

  Tensor allocate(size_t index, DType dtype, Shape shape, size_t bytes) override {
    const int slot = index < step_->outputs.size() ? step_->outputs[index] : -1;
    // An output allocated twice in a step (a kernel using the first as scratch) gets the
    // arena once: both must not share bytes.
    const uint64_t bit = index < 64 ? uint64_t{1} << index : 0;
    if (slot >= 0 && plan_ != nullptr && (served_ & bit) == 0 && bit != 0) {
      const auto s = static_cast<size_t>(slot);
      if (plan_->offsets[s] >= 0 && bytes <= plan_->bytes[s]) {
        served_ |= bit;
        void* p = static_cast<std::byte*>(state_.arena_.get()) + plan_->offsets[s];
        allocated_.push_back(p);
        // Views share the arena's ownership (no allocation), so one that escapes stays valid.
        return Tensor::view(dtype, std::move(shape), std::shared_ptr<const void>(state_.arena_, p), p);
      }
    }
    if (slot >= 0 && recorded_ != nullptr) (*recorded_)[static_cast<size_t>(slot)] = bytes;
    ++state_.heap_allocations_;
    Tensor t = heap_tensor(dtype, std::move(shape), bytes);
    allocated_.push_back(t.raw());
    return t;
  }

 private:
  ExecutorState& state_;
  const ExecutorState::Plan* plan_;
  std::vector<size_t>* recorded_;
  const Step* step_ = nullptr;
  uint64_t served_ = 0;                 // bit i: output i of this step already came from the arena
  std::vector<const void*> allocated_;  // what this step was given
};

Result<std::unique_ptr<Executor>> Executor::create(std::shared_ptr<const ir::Graph> graph,
                                                   const std::vector<Backend*>& backends, const KernelConfig& config) {
  return create_impl(std::move(graph), nullptr, backends, config);
}

Result<std::unique_ptr<Executor>> Executor::create(std::unique_ptr<ir::Graph> graph,
                                                   const std::vector<Backend*>& backends, const KernelConfig& config) {
  ir::Graph* owned = graph.get();
  return create_impl(std::shared_ptr<const ir::Graph>(std::move(graph)), owned, backends, config);
}

Result<std::unique_ptr<Executor>> Executor::create_impl(std::shared_ptr<const ir::Graph> graph, ir::Graph* owned,
                                                        const std::vector<Backend*>& backends,
                                                        const KernelConfig& config) {
  auto exec = std::unique_ptr<Executor>(new Executor(std::move(graph)));
  exec->config_ = config;
  FULCRUM_RETURN_IF_ERROR(exec->make_kernels(owned, backends));
  exec->plan_lifetimes();
  return exec;
}

Status Executor::make_kernels(ir::Graph* owned, const std::vector<Backend*>& backends) {
  const ir::Graph& graph = *graph_;
  std::unordered_map<const ir::Value*, int> slot;
  for (const auto& v : graph.values()) {
    slot[v.get()] = static_cast<int>(constants_.size());
    constants_.push_back(v->is_constant() ? v->constant : Tensor());
  }
  packed_.assign(constants_.size(), false);
  is_output_.assign(constants_.size(), false);
  fp16_exact_.assign(constants_.size(), false);
  if (config_.fp16_numerics) {
    // Constants are checked while their bytes are still here (packing may free them);
    // an FP16 layer's outputs are FP16 once rounded.
    for (size_t s = 0; s < constants_.size(); ++s) {
      const Tensor& c = constants_[s];
      fp16_exact_[s] = c.defined() && c.dtype() == DType::kFloat32 && c.raw() != nullptr &&
                       fp16_exact(c.data<float>(), static_cast<size_t>(c.numel()));
    }
    for (const auto& n : graph.nodes())
      if (n->precision == Precision::kFp16)
        for (const ir::Value* v : n->outputs)
          if (v != nullptr) fp16_exact_[static_cast<size_t>(slot.at(v))] = true;
  }
  auto slot_of = [&](const ir::Value* v) { return v == nullptr ? -1 : slot.at(v); };
  for (const ir::Value* v : graph.inputs) input_slots_.push_back(slot_of(v));
  for (const ir::Value* v : graph.outputs) output_slots_.push_back(slot_of(v));
  for (int s : output_slots_) is_output_[static_cast<size_t>(s)] = true;

  // A constant's bytes are freed once its last consumer exists and every consumer packed it.
  std::vector<int> consumers_left(constants_.size(), 0);
  std::vector<bool> all_packed(constants_.size(), true);
  for (const auto& n : graph.nodes())
    for (const ir::Value* v : n->inputs)
      if (v != nullptr && v->is_constant()) ++consumers_left[static_cast<size_t>(slot_of(v))];

  std::map<std::string, std::vector<std::string>> unsupported;
  for (const auto& n : graph.nodes()) {
    Step step{n.get(), nullptr, {}, {}, {}, {}};
    for (Backend* backend : backends) {
      if (n->typed_attrs == nullptr) break;
      auto made = backend->create(*n, config_);
      if (!made.is_ok()) return made.status().with_context(n->label());
      if (*made) {
        step.kernel = std::move(made).value();
        step.backend = backend->name();
        break;
      }
    }
    if (!step.kernel) unsupported[n->domain.empty() ? n->op_type : n->domain + "." + n->op_type].push_back(n->name);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      step.inputs.push_back(slot_of(n->inputs[i]));
      ir::Value* v = n->inputs[i];
      if (v == nullptr || !v->is_constant()) continue;
      const auto s = static_cast<size_t>(step.inputs.back());
      if (!step.kernel || !step.kernel->release_constant_input(i)) all_packed[s] = false;
      if (--consumers_left[s] > 0 || !all_packed[s] || is_output_[s]) continue;
      packed_[s] = true;
      constants_[s] = without_data(constants_[s]);
      if (owned != nullptr) v->constant = constants_[s];
    }
    for (const ir::Value* v : n->outputs) step.outputs.push_back(slot_of(v));
    step.round_fp16 = config_.fp16_numerics && n->precision == Precision::kFp16;
    steps_.push_back(std::move(step));
  }
  if (unsupported.empty()) return Status::ok();
  std::vector<std::string> parts;
  for (const auto& [op, nodes] : unsupported)
    parts.push_back(fmt::format("{} (node{} {})", op, nodes.size() > 1 ? "s" : "",
                                fmt::join(nodes.begin(), nodes.begin() + std::min<size_t>(nodes.size(), 5), ", ")));
  return unimplemented("no backend has a kernel for: {}", fmt::join(parts, "; "));
}

// Each intermediate is released after its last reader, or right after its producer when
// nothing reads it; graph inputs, outputs and constants never are.
void Executor::plan_lifetimes() {
  def_step_.assign(constants_.size(), -1);
  last_use_.assign(constants_.size(), -1);
  for (size_t k = 0; k < steps_.size(); ++k) {
    for (int s : steps_[k].inputs)
      if (s >= 0) last_use_[static_cast<size_t>(s)] = static_cast<int>(k);
    for (int s : steps_[k].outputs)
      if (s >= 0) def_step_[static_cast<size_t>(s)] = static_cast<int>(k);
  }
  for (size_t s = 0; s < constants_.size(); ++s) {
    if (def_step_[s] < 0 || is_output_[s]) continue;
    const int last = std::max(last_use_[s], def_step_[s]);
    steps_[static_cast<size_t>(last)].release.push_back(static_cast<int>(s));
  }
}

std::vector<std::pair<const ir::Node*, std::string_view>> Executor::placement() const {
  std::vector<std::pair<const ir::Node*, std::string_view>> out;
  for (const Step& step : steps_) out.emplace_back(step.node, step.backend);
  return out;
}

Executor::WeightInfo Executor::weight_info() const {
  WeightInfo info;
  for (size_t s = 0; s < constants_.size(); ++s) {
    if (!constants_[s].defined()) continue;
    info.model_bytes += constants_[s].nbytes();
    if (!packed_[s]) info.constant_bytes += constants_[s].nbytes();
  }
  for (const Step& step : steps_) info.packed_bytes += step.kernel->packed_bytes();
  return info;
}

Result<std::vector<Tensor>> Executor::run(const std::vector<Tensor>& inputs, ExecutorState& state,
                                          bool plan_memory) const {
  if (inputs.size() != input_slots_.size())
    return invalid_argument("expected {} inputs, got {}", input_slots_.size(), inputs.size());
  ScopedThreadLimit threads(config_.threads);
  ExecutorState::Signature signature;
  for (const Tensor& t : inputs) signature.emplace_back(t.dtype(), t.shape());

  std::vector<Tensor> values;
  std::vector<int> alias_of;
  auto begin_run = [&] {
    values = constants_;
    for (size_t i = 0; i < input_slots_.size(); ++i) values[static_cast<size_t>(input_slots_[i])] = inputs[i];
    alias_of.assign(values.size(), -1);
    state.heap_allocations_ = 0;
  };
  auto outputs = [&] {
    std::vector<Tensor> out;
    for (int s : output_slots_) out.push_back(values[static_cast<size_t>(s)]);
    return out;
  };

  // An observer sees each value as it is produced and consumes it before the next step runs,
  // so observed runs use the arena like any other (calibration allocated and page-faulted
  // every activation of every batch when they took them from the heap).
  if (state.observer_)
    for (size_t i = 0; i < input_slots_.size(); ++i)
      FULCRUM_RETURN_IF_ERROR(state.observer_(graph_->inputs[i]->name(), inputs[i]));
  if (auto found = state.plans_.find(signature); found != state.plans_.end()) {
    begin_run();
    FULCRUM_ASSIGN_OR_RETURN(bool followed, run_steps(values, state, &found->second, nullptr, alias_of));
    if (followed) return outputs();
    // A kernel viewed an input it did not view when the plan was recorded, so a buffer may
    // have been reused while still read: record the plan again.
    state.plans_.erase(found);
  }
  begin_run();
  std::vector<size_t> recorded(values.size(), 0);
  FULCRUM_RETURN_IF_ERROR(run_steps(values, state, nullptr, plan_memory ? &recorded : nullptr, alias_of).status());
  if (plan_memory) FULCRUM_RETURN_IF_ERROR(adopt_plan(state, std::move(signature), make_plan(recorded, alias_of)));
  return outputs();
}

Status Executor::adopt_plan(ExecutorState& state, ExecutorState::Signature signature, ExecutorState::Plan plan) {
  if (state.plans_.size() >= kMaxPlans) state.plans_.clear();
  const size_t arena_bytes = plan.arena_bytes;
  state.plans_.emplace(std::move(signature), std::move(plan));
  ++state.plans_recorded_;
  if (arena_bytes > state.arena_bytes_) {
    // Plans only grow the arena, so every stored plan's offsets stay inside it. The old
    // block lives on while views of it do.
    void* block = std::aligned_alloc(kAlignment, arena_bytes);
    if (block == nullptr) return internal_error("out of memory: activation arena of {} bytes", arena_bytes);
    state.arena_.reset(block, std::free);
    state.arena_bytes_ = arena_bytes;
  }
#ifdef __GLIBC__
  // The recording run's tensors came from the heap, and glibc keeps freed blocks below its
  // (adaptive) mmap threshold: hand them back, or the arena would come on top of them.
  malloc_trim(0);
#endif
  return Status::ok();
}

Result<bool> Executor::run_steps(std::vector<Tensor>& values, ExecutorState& state, const ExecutorState::Plan* plan,
                                 std::vector<size_t>* recorded, std::vector<int>& alias_of) const {
  StepAllocator allocator(state, plan, recorded);
  for (const Step& step : steps_) {
    const ir::Node& node = *step.node;
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int s = step.inputs[i];
      if (s < 0) {
        ins.push_back(nullptr);
        continue;
      }
      const Tensor& t = values[static_cast<size_t>(s)];
      if (!t.defined()) return internal_error("{}: input '{}' has no value", node.label(), node.inputs[i]->name());
      ins.push_back(&t);
    }
    std::vector<Tensor> outs(step.outputs.size());
    KernelContext ctx(node, std::move(ins), outs, &allocator);
    allocator.begin(step);
    Status status;
    try {
      status = step.kernel->run(ctx);
    } catch (const std::bad_alloc&) {
      status = internal_error("out of memory");
    } catch (const std::exception& e) {
      status = internal_error("{}", e.what());
    }
    if (!status.is_ok()) return status.with_context(node.label());
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      const int out = step.outputs[i];
      if (out < 0) continue;
      if (!outs[i].defined())
        return internal_error("{}: the kernel did not produce output '{}'", node.label(), node.outputs[i]->name());
      int viewed = -1;
      for (int in : step.inputs)
        if (in >= 0 && points_into(outs[i], values[static_cast<size_t>(in)])) viewed = in;
      if (step.round_fp16 && outs[i].dtype() == DType::kFloat32)
        viewed = round_output_fp16(outs[i], viewed, allocator, state);
      if (plan != nullptr && viewed != plan->alias_of[static_cast<size_t>(out)]) return false;
      alias_of[static_cast<size_t>(out)] = viewed;
      values[static_cast<size_t>(out)] = std::move(outs[i]);
      if (state.observer_) {
        Status observed = state.observer_(node.outputs[i]->name(), values[static_cast<size_t>(out)]);
        if (!observed.is_ok()) return observed.with_context(node.label());
      }
    }
    for (int s : step.release) values[static_cast<size_t>(s)] = Tensor();
  }
  return true;
}

int Executor::round_output_fp16(Tensor& out, int viewed, const StepAllocator& allocator, ExecutorState& state) const {
  const auto n = static_cast<size_t>(out.numel());
  if (n == 0 || out.raw() == nullptr) return viewed;
  if (viewed < 0 && allocator.allocated_this_step(out.raw())) {
    round_to_fp16(out.data<float>(), out.mutable_data<float>(), n);
    return viewed;
  }
  // Not the step's own memory (an input's bytes, a constant, the kernel's own buffer): never
  // written. A view of values already FP16 (another FP16 layer's output) needs nothing.
  if (viewed >= 0 && fp16_exact_[static_cast<size_t>(viewed)]) return viewed;
  ++state.heap_allocations_;
  Tensor copy = heap_tensor(DType::kFloat32, out.shape(), n * sizeof(float));
  round_to_fp16(out.data<float>(), copy.mutable_data<float>(), n);
  out = std::move(copy);
  return -1;
}

// Buffers are the outputs kernels allocated through the context, each with the views of it
// (a chain of Reshapes, say) folded into its lifetime. A buffer that is, or is viewed by,
// a graph output stays on the heap: the caller keeps it after the run.
ExecutorState::Plan Executor::make_plan(const std::vector<size_t>& recorded, const std::vector<int>& alias_of) const {
  const size_t n = recorded.size();
  std::vector<int> last(n, -1);
  std::vector<bool> escapes(n, false);
  for (size_t s = 0; s < n; ++s) {
    if (def_step_[s] < 0) continue;
    size_t root = s;
    while (alias_of[root] >= 0) root = static_cast<size_t>(alias_of[root]);
    last[root] = std::max({last[root], last_use_[s], def_step_[s]});
    escapes[root] = escapes[root] || is_output_[s];
  }
  ExecutorState::Plan plan;
  plan.offsets.assign(n, -1);
  plan.bytes.assign(n, 0);
  plan.alias_of = alias_of;
  std::vector<plan::BufferLifetime> buffers;
  std::vector<size_t> buffer_slot;
  for (size_t s = 0; s < n; ++s) {
    if (def_step_[s] < 0 || alias_of[s] >= 0 || recorded[s] == 0 || escapes[s]) continue;
    buffers.push_back({recorded[s], def_step_[s], last[s]});
    buffer_slot.push_back(s);
  }
  const plan::MemoryPlan placed = plan::plan_memory(buffers, kAlignment);
  for (size_t b = 0; b < buffers.size(); ++b) {
    plan.offsets[buffer_slot[b]] = static_cast<int64_t>(placed.offsets[b]);
    plan.bytes[buffer_slot[b]] = buffers[b].bytes;
  }
  plan.arena_bytes = placed.arena_bytes;
  return plan;
}

}  // namespace fulcrum::backends
