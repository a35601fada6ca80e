// Float32 Softmax along contiguous rows: the last axis from opset 13, or every axis from
// `axis` on before it (the coerced 2-D form), which are the same rows in memory. One pass
// for the maximum, one for exp(x - max) and its sum, one to scale by 1/sum, each over a
// row that stays in cache. A non-last axis (opset 13) is the reference kernel's.
#include "ops/softmax.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_parallel.h"
#include "backends/cpu/vec_math.h"
#include "backends/reference/kernel.h"
#include "ops/shape_utils.h"

namespace fulcrum::backends::cpu {
namespace {

// About the cost of one element in multiply-adds: exp is a degree-7 polynomial.
constexpr int64_t kWorkPerElement = 16;

FULCRUM_CPU_VECTOR_CLONES
void softmax_rows(const float* in, float* out, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * n;
    float* y = out + r * n;
    const float max = row_max(x, n);
    for (int64_t i = 0; i < n; ++i) y[i] = exp_approx(x[i] - max);
    const float scale = 1.0f / row_sum(y, n);
    for (int64_t i = 0; i < n; ++i) y[i] *= scale;
  }
}

class SoftmaxKernel : public Kernel {
 public:
  explicit SoftmaxKernel(reference::KernelFn fallback) : fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const auto& attrs = ctx.attrs<ops::SoftmaxAttrs>();
    const int64_t rank = x.rank();
    auto axis = ops::normalize_axis(attrs.axis, std::max<int64_t>(rank, 1));
    // A non-last axis from opset 13, a scalar or an empty tensor: the reference's.
    if (x.dtype() != DType::kFloat32 || rank == 0 || !axis.is_ok() || x.numel() == 0 ||
        (!attrs.coerce_2d && *axis != rank - 1))
      return fallback_(ctx);
    int64_t n = 1;
    for (int64_t d = *axis; d < rank; ++d) n *= x.dim(d);
    const int64_t rows = x.numel() / n;
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, x.shape());
    const float* in = x.data<float>();
    float* out = y.mutable_data<float>();
    parallel_rows(rows, x.numel() * kWorkPerElement,
                  [&](int64_t begin, int64_t end) { softmax_rows(in + begin * n, out + begin * n, end - begin, n); });
    return Status::ok();
  }

 private:
  reference::KernelFn fallback_;
};

KernelResult create_softmax(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr) return KernelResult(nullptr);
  return KernelResult(std::make_unique<SoftmaxKernel>(fallback));
}

}  // namespace

FULCRUM_CPU_KERNEL("", Softmax, create_softmax);

}  // namespace fulcrum::backends::cpu
