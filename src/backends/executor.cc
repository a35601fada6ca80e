#include "backends/executor.h"

#include <map>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel.h"

namespace fulcrum::backends {

Result<std::unique_ptr<Executor>> Executor::create(std::shared_ptr<const ir::Graph> graph,
                                                   const std::vector<Backend*>& backends, const KernelConfig& config) {
  std::vector<std::pair<std::unique_ptr<Kernel>, std::string_view>> kernels;
  std::map<std::string, std::vector<std::string>> unsupported;
  for (const auto& n : graph->nodes()) {
    std::unique_ptr<Kernel> kernel;
    std::string_view backend_name;
    for (Backend* backend : backends) {
      if (n->typed_attrs == nullptr) break;
      auto made = backend->create(*n, config);
      if (!made.is_ok()) return made.status().with_context(n->label());
      if (*made) {
        kernel = std::move(made).value();
        backend_name = backend->name();
        break;
      }
    }
    if (!kernel) unsupported[n->domain.empty() ? n->op_type : n->domain + "." + n->op_type].push_back(n->name);
    kernels.emplace_back(std::move(kernel), backend_name);
  }
  if (!unsupported.empty()) {
    std::vector<std::string> parts;
    for (const auto& [op, nodes] : unsupported)
      parts.push_back(fmt::format("{} (node{} {})", op, nodes.size() > 1 ? "s" : "",
                                  fmt::join(nodes.begin(), nodes.begin() + std::min<size_t>(nodes.size(), 5), ", ")));
    return unimplemented("no backend has a kernel for: {}", fmt::join(parts, "; "));
  }

  auto exec = std::unique_ptr<Executor>(new Executor(graph));
  exec->config_ = config;
  std::unordered_map<const ir::Value*, int> slot;
  for (const auto& v : graph->values()) {
    slot[v.get()] = static_cast<int>(exec->constants_.size());
    exec->constants_.push_back(v->is_constant() ? v->constant : Tensor());
  }
  auto slot_of = [&](const ir::Value* v) { return v == nullptr ? -1 : slot.at(v); };
  for (const ir::Value* v : graph->inputs) exec->input_slots_.push_back(slot_of(v));
  for (const ir::Value* v : graph->outputs) exec->output_slots_.push_back(slot_of(v));

  std::vector<int> last_use(exec->constants_.size(), -1);
  size_t index = 0;
  for (const auto& n : graph->nodes()) {
    auto& [kernel, backend_name] = kernels[index++];
    Step step{n.get(), std::move(kernel), backend_name, {}, {}, {}};
    for (const ir::Value* v : n->inputs) step.inputs.push_back(slot_of(v));
    for (const ir::Value* v : n->outputs) step.outputs.push_back(slot_of(v));
    for (int s : step.inputs)
      if (s >= 0) last_use[static_cast<size_t>(s)] = static_cast<int>(exec->steps_.size());
    exec->steps_.push_back(std::move(step));
  }
  // Graph outputs, inputs and constants are never released.
  for (int s : exec->output_slots_) last_use[static_cast<size_t>(s)] = -1;
  for (size_t s = 0; s < last_use.size(); ++s) {
    bool keep = exec->constants_[s].defined();
    for (int in : exec->input_slots_) keep = keep || in == static_cast<int>(s);
    if (!keep && last_use[s] >= 0)
      exec->steps_[static_cast<size_t>(last_use[s])].release.push_back(static_cast<int>(s));
  }
  return exec;
}

std::vector<std::pair<const ir::Node*, std::string_view>> Executor::placement() const {
  std::vector<std::pair<const ir::Node*, std::string_view>> out;
  for (const Step& step : steps_) out.emplace_back(step.node, step.backend);
  return out;
}

Result<std::vector<Tensor>> Executor::run(const std::vector<Tensor>& inputs) const {
  ScopedThreadLimit threads(config_.threads);
  std::vector<Tensor> values = constants_;
  for (size_t i = 0; i < input_slots_.size(); ++i) values[static_cast<size_t>(input_slots_[i])] = inputs[i];

  for (const Step& step : steps_) {
    const ir::Node& node = *step.node;
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      int s = step.inputs[i];
      if (s < 0) {
        ins.push_back(nullptr);
        continue;
      }
      const Tensor& t = values[static_cast<size_t>(s)];
      if (!t.defined()) return internal_error("{}: input '{}' has no value", node.label(), node.inputs[i]->name());
      ins.push_back(&t);
    }
    std::vector<Tensor> outs(step.outputs.size());
    KernelContext ctx(node, std::move(ins), outs);
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
      if (step.outputs[i] < 0) continue;
      if (!outs[i].defined())
        return internal_error("{}: the kernel did not produce output '{}'", node.label(), node.outputs[i]->name());
      values[static_cast<size_t>(step.outputs[i])] = std::move(outs[i]);
    }
    for (int s : step.release) values[static_cast<size_t>(s)] = Tensor();
  }

  std::vector<Tensor> out;
  for (int s : output_slots_) out.push_back(values[static_cast<size_t>(s)]);
  return out;
}

}  // namespace fulcrum::backends
