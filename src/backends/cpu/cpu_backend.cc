// The CPU backend: dispatches a node to its op family's kernel factory.
#include "backends/cpu/cpu_backend.h"

#include <string_view>
#include <unordered_map>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace fulcrum::backends {
namespace {

using Factory = cpu::KernelResult (*)(const ir::Node&, const KernelConfig&);

class CpuBackend : public Backend {
 public:
  std::string_view name() const override { return "cpu"; }

  Result<std::unique_ptr<Kernel>> create(const ir::Node& node, const KernelConfig& config) override {
    static const std::unordered_map<std::string_view, Factory> kFactories = {
        {"Conv", cpu::create_conv},
        {"Gemm", cpu::create_gemm},
        {"MatMul", cpu::create_matmul},
        {"MaxPool", cpu::create_pool},
        {"AveragePool", cpu::create_pool},
        {"GlobalAveragePool", cpu::create_pool},
        {"Relu", cpu::create_elementwise},
        {"LeakyRelu", cpu::create_elementwise},
        {"Sigmoid", cpu::create_elementwise},
        {"HardSigmoid", cpu::create_elementwise},
        {"HardSwish", cpu::create_elementwise},
        {"Clip", cpu::create_elementwise},
        {"Add", cpu::create_elementwise},
        {"Sub", cpu::create_elementwise},
        {"Mul", cpu::create_elementwise},
        {"Div", cpu::create_elementwise},
    };
    if ((!node.domain.empty() && node.domain != "ai.onnx") || node.typed_attrs == nullptr)
      return std::unique_ptr<Kernel>();
    auto it = kFactories.find(node.op_type);
    if (it == kFactories.end()) return std::unique_ptr<Kernel>();
    return cpu::catch_dnnl([&] { return it->second(node, config); });
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace fulcrum::backends
