// The CPU backend: dispatches a node to the kernel factory its op registered.
#include "backends/cpu/cpu_backend.h"

#include <map>
#include <string>
#include <string_view>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace fulcrum::backends {
namespace cpu {
namespace {

std::map<std::pair<std::string, std::string>, KernelFactory, std::less<>>& factories() {
  static std::map<std::pair<std::string, std::string>, KernelFactory, std::less<>> table;
  return table;
}

}  // namespace

KernelFactory find_factory(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  auto it = factories().find(std::pair<std::string, std::string>(domain, op_type));
  return it == factories().end() ? nullptr : it->second;
}

KernelFactoryRegistrar::KernelFactoryRegistrar(std::string_view domain, std::string_view op_type,
                                               KernelFactory factory) {
  factories()[{std::string(domain), std::string(op_type)}] = factory;
}

}  // namespace cpu

namespace {

class CpuBackend : public Backend {
 public:
  std::string_view name() const override { return "cpu"; }

  Result<std::unique_ptr<Kernel>> create(const ir::Node& node, const KernelConfig& config) override {
    if (node.typed_attrs == nullptr) return std::unique_ptr<Kernel>();
    cpu::KernelFactory factory = cpu::find_factory(node.domain, node.op_type);
    if (factory == nullptr) return std::unique_ptr<Kernel>();
    return cpu::catch_dnnl([&] { return factory(node, config); });
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace fulcrum::backends
