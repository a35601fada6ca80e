// Backend and Kernel: how an engine gets a kernel for each node. The builder asks its
// backends in order (cpu before reference, say); the first that returns a kernel runs the
// node. create() runs once, at build time, so a kernel packs its weights there.
#pragma once

#include <memory>
#include <string_view>

#include "backends/kernel_context.h"
#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::backends {

struct KernelConfig {
  int threads = 0;  // 0: every core
  // FP16 numerics: the executor rounds every float32 output of an FP16 layer
  // (Node::precision) to FP16 as it is produced, as a GPU's FP16 engine stores it.
  bool fp16_numerics = false;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status run(KernelContext& ctx) = 0;

  // Called once, after creation, for each constant input. A kernel that packed constant
  // input i into a layout of its own, and will not read the original bytes again (neither
  // at run time nor to re-pack for another input shape), drops its own reference to the
  // tensor and returns true. When every consumer of a constant does, the executor frees
  // it: the input the kernel then sees at run time has the constant's dtype and shape but
  // no data.
  virtual bool release_constant_input(size_t /*i*/) { return false; }
  // Bytes of the kernel's own packed copies of its weights (for inspect).
  virtual size_t packed_bytes() const { return 0; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // A kernel for `node`, or nullptr when this backend does not run it (then the next
  // backend is asked). An error means the node is invalid, not merely unsupported.
  virtual Result<std::unique_ptr<Kernel>> create(const ir::Node& node, const KernelConfig& config) = 0;
};

// The reference backend: every op with a registered reference kernel.
Backend& reference_backend();

}  // namespace fulcrum::backends
