// Float32 LayerNormalization over the trailing axes (from `axis` on), one row at a time:
// the mean, then the variance of the centred row (two passes over a row in cache, which
// is stabler than E[x^2] - E[x]^2), then y = (x - mean) * rstd * scale + bias. Only the Y
// output: a node that also wants Mean or InvStdDev, or whose scale/bias are not one value
// per row element, is the reference kernel's.
#include <cmath>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_parallel.h"
#include "backends/cpu/vec_math.h"
#include "backends/reference/kernel.h"
#include "ops/normalization.h"
#include "ops/shape_utils.h"

namespace fulcrum::backends::cpu {
namespace {

// Three passes over a row in cache: about as cheap as a copy per element.
constexpr int64_t kWorkPerElement = 1;

FULCRUM_CPU_VECTOR_CLONES
void layer_norm_rows(const float* in, const float* scale, const float* bias, float epsilon, float* out, int64_t rows,
                     int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * n;
    float* y = out + r * n;
    const float mean = row_sum(x, n) / static_cast<float>(n);
    const float sq = row_sum_sq_dev(x, mean, n);
    const float rstd = 1.0f / __builtin_sqrtf(sq / static_cast<float>(n) + epsilon);
    if (bias != nullptr) {
      for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * rstd * scale[i] + bias[i];
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * rstd * scale[i];
    }
  }
}

class LayerNormKernel : public Kernel {
 public:
  explicit LayerNormKernel(reference::KernelFn fallback) : fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const auto& attrs = ctx.attrs<ops::LayerNormAttrs>();
    auto axis = ops::normalize_axis(attrs.axis, x.rank());
    if (x.dtype() != DType::kFloat32 || !axis.is_ok() || x.numel() == 0) return fallback_(ctx);
    int64_t n = 1;
    for (int64_t d = *axis; d < x.rank(); ++d) n *= x.dim(d);
    const Tensor& scale = ctx.input(1);
    const bool has_bias = ctx.has_input(2);
    if (scale.dtype() != DType::kFloat32 || scale.numel() != n ||
        (has_bias && (ctx.input(2).dtype() != DType::kFloat32 || ctx.input(2).numel() != n)))
      return fallback_(ctx);  // scale or bias broadcast along the row: the reference's
    const int64_t rows = x.numel() / n;
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, x.shape());
    const float* in = x.data<float>();
    const float* s = scale.data<float>();
    const float* b = has_bias ? ctx.input(2).data<float>() : nullptr;
    float* out = y.mutable_data<float>();
    const float eps = attrs.epsilon;
    parallel_rows(rows, x.numel() * kWorkPerElement, [&](int64_t begin, int64_t end) {
      layer_norm_rows(in + begin * n, s, b, eps, out + begin * n, end - begin, n);
    });
    return Status::ok();
  }

 private:
  reference::KernelFn fallback_;
};

KernelResult create_layer_norm(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr || node.inputs.size() < 2) return KernelResult(nullptr);
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i] != nullptr) return KernelResult(nullptr);  // Mean / InvStdDev wanted
  return KernelResult(std::make_unique<LayerNormKernel>(fallback));
}

}  // namespace

FULCRUM_CPU_KERNEL("", LayerNormalization, create_layer_norm);

}  // namespace fulcrum::backends::cpu
