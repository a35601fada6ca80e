// fulcrum.Gelu on float32: x / 2 * (1 + erf(x / sqrt 2)) with a polynomial erf, in one pass
// (the unfused graph makes five: Div, Erf, Add, Mul, Mul).
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_parallel.h"
#include "backends/cpu/vec_math.h"
#include "backends/reference/kernel.h"

namespace fulcrum::backends::cpu {
namespace {

constexpr int64_t kWorkPerElement = 16;

FULCRUM_CPU_VECTOR_CLONES
void gelu_loop(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_erf(in[i]);
}

class GeluKernel : public Kernel {
 public:
  explicit GeluKernel(reference::KernelFn fallback) : fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kFloat32) return fallback_(ctx);
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, x.shape());
    const float* in = x.data<float>();
    float* out = y.mutable_data<float>();
    parallel_rows(x.numel(), x.numel() * kWorkPerElement,
                  [&](int64_t begin, int64_t end) { gelu_loop(in + begin, out + begin, end - begin); });
    return Status::ok();
  }

 private:
  reference::KernelFn fallback_;
};

KernelResult create_gelu(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr) return KernelResult(nullptr);
  return KernelResult(std::make_unique<GeluKernel>(fallback));
}

}  // namespace

FULCRUM_CPU_KERNEL("fulcrum", Gelu, create_gelu);

}  // namespace fulcrum::backends::cpu
