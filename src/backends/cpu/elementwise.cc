// Float32 elementwise kernels of the CPU backend: activations and same-shape or scalar
// binary ops, as flat loops the compiler vectorises, into outputs that are not zero-filled
// first. Any other case (broadcasting, other dtypes) runs the reference kernel of the op,
// so taking a node never narrows what it accepts.
#include <algorithm>
#include <cmath>
#include <string_view>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/reference/kernel.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::cpu {
namespace {

enum class Unary { kRelu, kLeakyRelu, kSigmoid, kHardSigmoid, kHardSwish, kClip };
enum class Binary { kAdd, kSub, kMul, kDiv };

// Clip's bounds: attributes before opset 11, optional constant inputs after. Returns false
// when a bound is a run-time input (the reference kernel then handles the node).
bool clip_bounds(const ir::Node& node, float& lo, float& hi) {
  lo = -INFINITY;
  hi = INFINITY;
  const auto& a = node.attrs_as<ops::ClipAttrs>();
  if (a.bounds_from_attrs) {
    lo = a.min;
    hi = a.max;
    return true;
  }
  for (size_t i = 1; i < node.inputs.size() && i < 3; ++i) {
    const ir::Value* v = node.inputs[i];
    if (v == nullptr) continue;
    if (!v->is_constant() || v->constant.dtype() != DType::kFloat32 || v->constant.numel() != 1) return false;
    (i == 1 ? lo : hi) = v->constant.data<float>()[0];
  }
  return true;
}

class UnaryKernel : public Kernel {
 public:
  UnaryKernel(Unary op, float alpha, float beta, reference::KernelFn fallback)
      : op_(op), alpha_(alpha), beta_(beta), fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kFloat32) return fallback_(ctx);
    Tensor y = empty_float(x.shape());
    const float* in = x.data<float>();
    float* out = y.mutable_data<float>();
    const int64_t n = x.numel();
    const float a = alpha_, b = beta_;
    switch (op_) {
      case Unary::kRelu:
        for (int64_t i = 0; i < n; ++i) out[i] = std::max(in[i], 0.0f);
        break;
      case Unary::kLeakyRelu:
        for (int64_t i = 0; i < n; ++i) out[i] = in[i] >= 0 ? in[i] : a * in[i];
        break;
      case Unary::kSigmoid:
        for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
        break;
      case Unary::kHardSigmoid:
        for (int64_t i = 0; i < n; ++i) out[i] = std::clamp(a * in[i] + b, 0.0f, 1.0f);
        break;
      case Unary::kHardSwish:
        for (int64_t i = 0; i < n; ++i) out[i] = in[i] * std::clamp(in[i] / 6.0f + 0.5f, 0.0f, 1.0f);
        break;
      case Unary::kClip:
        for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[i], a), b);
        break;
    }
    ctx.set_output(0, std::move(y));
    return Status::ok();
  }

 private:
  Unary op_;
  float alpha_, beta_;
  reference::KernelFn fallback_;
};

template <Binary op>
void binary_loop(const float* a, int64_t a_step, const float* b, int64_t b_step, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = a[i * a_step], y = b[i * b_step];
    if constexpr (op == Binary::kAdd) out[i] = x + y;
    if constexpr (op == Binary::kSub) out[i] = x - y;
    if constexpr (op == Binary::kMul) out[i] = x * y;
    if constexpr (op == Binary::kDiv) out[i] = x / y;
  }
}

template <Binary op>
class BinaryKernel : public Kernel {
 public:
  explicit BinaryKernel(reference::KernelFn fallback) : fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) return fallback_(ctx);
    // Same shapes, or one side a single element whose rank does not exceed the other's.
    const bool same = a.shape() == b.shape();
    const bool b_scalar = b.numel() == 1 && b.rank() <= a.rank();
    const bool a_scalar = a.numel() == 1 && a.rank() <= b.rank();
    if (!same && !b_scalar && !a_scalar) return fallback_(ctx);
    const Tensor& big = (same || b_scalar) ? a : b;
    Tensor y = empty_float(big.shape());
    const int64_t n = big.numel();
    binary_loop<op>(a.data<float>(), (same || b_scalar) ? 1 : 0, b.data<float>(),
                    (same || (a_scalar && !b_scalar)) ? 1 : 0, y.mutable_data<float>(), n);
    ctx.set_output(0, std::move(y));
    return Status::ok();
  }

 private:
  reference::KernelFn fallback_;
};

}  // namespace

KernelResult create_elementwise(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr) return std::unique_ptr<Kernel>();
  // Opsets before 7 broadcast binary ops by legacy attributes: the reference handles those.
  if (node.opset < 7) return std::unique_ptr<Kernel>();
  const std::string_view op = node.op_type;
  if (op == "Add") return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel<Binary::kAdd>>(fallback));
  if (op == "Sub") return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel<Binary::kSub>>(fallback));
  if (op == "Mul") return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel<Binary::kMul>>(fallback));
  if (op == "Div") return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel<Binary::kDiv>>(fallback));
  float alpha = 0, beta = 0;
  Unary kind;
  if (op == "Relu") {
    kind = Unary::kRelu;
  } else if (op == "LeakyRelu") {
    kind = Unary::kLeakyRelu;
    alpha = node.attrs_as<ops::ActivationAttrs>().alpha;
  } else if (op == "Sigmoid") {
    kind = Unary::kSigmoid;
  } else if (op == "HardSigmoid") {
    kind = Unary::kHardSigmoid;
    alpha = node.attrs_as<ops::ActivationAttrs>().alpha;
    beta = node.attrs_as<ops::ActivationAttrs>().beta;
  } else if (op == "HardSwish") {
    kind = Unary::kHardSwish;
  } else if (op == "Clip") {
    kind = Unary::kClip;
    if (!clip_bounds(node, alpha, beta)) return std::unique_ptr<Kernel>();
  } else {
    return std::unique_ptr<Kernel>();
  }
  return std::unique_ptr<Kernel>(std::make_unique<UnaryKernel>(kind, alpha, beta, fallback));
}

FULCRUM_CPU_KERNEL("", Relu, create_elementwise);
FULCRUM_CPU_KERNEL("", LeakyRelu, create_elementwise);
FULCRUM_CPU_KERNEL("", Sigmoid, create_elementwise);
FULCRUM_CPU_KERNEL("", HardSigmoid, create_elementwise);
FULCRUM_CPU_KERNEL("", HardSwish, create_elementwise);
FULCRUM_CPU_KERNEL("", Clip, create_elementwise);
FULCRUM_CPU_KERNEL("", Add, create_elementwise);
FULCRUM_CPU_KERNEL("", Sub, create_elementwise);
FULCRUM_CPU_KERNEL("", Mul, create_elementwise);
FULCRUM_CPU_KERNEL("", Div, create_elementwise);

}  // namespace fulcrum::backends::cpu
