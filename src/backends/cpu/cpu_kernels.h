// The CPU backend's kernel factories. Each kernel file registers its factories next to its
// code:
//
//   FULCRUM_CPU_KERNEL("", Conv, create_conv);
//
// A factory returns nullptr for a node it does not take (another dtype, rank or attribute),
// so the next backend (the reference) gets it.
#pragma once

#include <memory>
#include <string_view>

#include "backends/backend.h"

namespace fulcrum::backends::cpu {

using KernelResult = Result<std::unique_ptr<Kernel>>;
using KernelFactory = KernelResult (*)(const ir::Node& node, const KernelConfig& config);

// The factory for an op ("" is the default ONNX domain), or nullptr.
KernelFactory find_factory(std::string_view domain, std::string_view op_type);

struct KernelFactoryRegistrar {
  KernelFactoryRegistrar(std::string_view domain, std::string_view op_type, KernelFactory factory);
};

}  // namespace fulcrum::backends::cpu

#define FULCRUM_CPU_KERNEL(domain, op, factory)                                                                 \
  static const ::fulcrum::backends::cpu::KernelFactoryRegistrar FULCRUM_CONCAT_(fulcrum_cpu_kernel_, __LINE__)( \
      domain, #op, factory)
