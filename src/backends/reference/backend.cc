// The reference backend behind the Backend interface: a thin wrapper over the registered
// kernel functions, which hold no state.
#include "backends/backend.h"
#include "backends/reference/kernel.h"

namespace fulcrum::backends {
namespace {

class FunctionKernel : public Kernel {
 public:
  explicit FunctionKernel(reference::KernelFn fn) : fn_(fn) {}
  Status run(KernelContext& ctx) override { return fn_(ctx); }

 private:
  reference::KernelFn fn_;
};

class ReferenceBackend : public Backend {
 public:
  std::string_view name() const override { return "reference"; }
  Result<std::unique_ptr<Kernel>> create(const ir::Node& node, const KernelConfig&) override {
    if (node.typed_attrs == nullptr) return std::unique_ptr<Kernel>();
    reference::KernelFn fn = reference::find_kernel(node.domain, node.op_type);
    if (fn == nullptr) return std::unique_ptr<Kernel>();
    return std::unique_ptr<Kernel>(std::make_unique<FunctionKernel>(fn));
  }
};

}  // namespace

Backend& reference_backend() {
  static ReferenceBackend backend;
  return backend;
}

}  // namespace fulcrum::backends
