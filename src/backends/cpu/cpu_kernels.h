// The CPU backend's kernel factories, one per op family. Each returns nullptr for a node it
// does not take (another dtype, rank or attribute), so the next backend gets it.
#pragma once

#include <memory>

#include "backends/backend.h"

namespace fulcrum::backends::cpu {

using KernelResult = Result<std::unique_ptr<Kernel>>;

KernelResult create_conv(const ir::Node& node, const KernelConfig& config);
KernelResult create_gemm(const ir::Node& node, const KernelConfig& config);
KernelResult create_matmul(const ir::Node& node, const KernelConfig& config);
KernelResult create_pool(const ir::Node& node, const KernelConfig& config);
KernelResult create_elementwise(const ir::Node& node, const KernelConfig& config);

}  // namespace fulcrum::backends::cpu
