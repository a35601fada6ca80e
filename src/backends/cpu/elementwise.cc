// Float32 elementwise kernels of the CPU backend: activations, Erf and Sqrt, and the binary
// arithmetic ops with numpy broadcasting, as loops the compiler vectorises, into outputs
// that are not zero-filled first. Any other case (other dtypes, legacy broadcasting) runs
// the reference kernel of the op, so taking a node never narrows what it accepts.
#include <algorithm>
#include <cmath>
#include <string_view>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_parallel.h"
#include "backends/cpu/vec_math.h"
#include "backends/reference/kernel.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::cpu {
namespace {

enum class Unary { kRelu, kLeakyRelu, kSigmoid, kHardSigmoid, kHardSwish, kClip, kErf, kSqrt };
enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kSquare };

// parallel_rows work per element: binary ops and most activations are memory-bound (1);
// erf is a rational polynomial (16).
constexpr int64_t kCheapWork = 1;
constexpr int64_t kErfWork = 16;
// Fewer rows than this are split into column ranges for the threads.
constexpr int64_t kMinRowsToSplit = 16;

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

// The transcendental loops are cloned for AVX2; std:: helpers (clamp, exp) would not inline
// into a clone, so the activations stay in one baseline loop.
FULCRUM_CPU_VECTOR_CLONES
void erf_loop(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = erf_approx(in[i]);
}

FULCRUM_CPU_VECTOR_CLONES
void sqrt_loop(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = __builtin_sqrtf(in[i]);
}

void unary_loop(Unary op, float a, float b, const float* in, float* out, int64_t n) {
  switch (op) {
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
    case Unary::kErf: erf_loop(in, out, n); break;
    case Unary::kSqrt: sqrt_loop(in, out, n); break;
  }
}

class UnaryKernel : public Kernel {
 public:
  UnaryKernel(Unary op, float alpha, float beta, reference::KernelFn fallback)
      : op_(op), alpha_(alpha), beta_(beta), fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kFloat32) return fallback_(ctx);
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, x.shape());
    const float* in = x.data<float>();
    float* out = y.mutable_data<float>();
    parallel_rows(x.numel(), x.numel() * (op_ == Unary::kErf ? kErfWork : kCheapWork), [&](int64_t begin, int64_t end) {
      unary_loop(op_, alpha_, beta_, in + begin, out + begin, end - begin);
    });
    return Status::ok();
  }

 private:
  Unary op_;
  float alpha_, beta_;
  reference::KernelFn fallback_;
};

// out[i] = a[i * a_step] op b[i * b_step], steps 0 or 1, for each op: the steps are
// template arguments so each of the three combinations vectorises.
template <int a_step, int b_step>
FULCRUM_CPU_INLINE void binary_row(BinaryOp op, const float* a, const float* b, float* out, int64_t n) {
  switch (op) {
    case BinaryOp::kAdd:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i * a_step] + b[i * b_step];
      break;
    case BinaryOp::kSub:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i * a_step] - b[i * b_step];
      break;
    case BinaryOp::kMul:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i * a_step] * b[i * b_step];
      break;
    case BinaryOp::kDiv:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i * a_step] / b[i * b_step];
      break;
    case BinaryOp::kSquare:  // Pow with the exponent 2
      for (int64_t i = 0; i < n; ++i) out[i] = a[i * a_step] * a[i * a_step];
      break;
    case BinaryOp::kPow:
      for (int64_t i = 0; i < n; ++i) out[i] = __builtin_powf(a[i * a_step], b[i * b_step]);
      break;
  }
}

// Rows are split into `pieces` column ranges each, so that one long row (same-shape operands
// merge into one) still spreads over threads; units [u0, u1) are row-major (row, piece).
FULCRUM_CPU_VECTOR_CLONES
void binary_units(BinaryOp op, const BroadcastPlan& plan, const float* a, const float* b, float* out, int64_t pieces,
                  int64_t u0, int64_t u1) {
  const int64_t n = plan.inner;
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t r = u / pieces, c0 = n * (u % pieces) / pieces, c1 = n * (u % pieces + 1) / pieces;
    const auto [ao, bo] = plan.row_offsets(r);
    const float* pa = a + ao + c0 * plan.a_inner_step;
    const float* pb = b + bo + c0 * plan.b_inner_step;
    float* o = out + r * n + c0;
    if (plan.a_inner_step == 1 && plan.b_inner_step == 1)
      binary_row<1, 1>(op, pa, pb, o, c1 - c0);
    else if (plan.a_inner_step == 1)
      binary_row<1, 0>(op, pa, pb, o, c1 - c0);
    else if (plan.b_inner_step == 1)
      binary_row<0, 1>(op, pa, pb, o, c1 - c0);
    else
      binary_row<0, 0>(op, pa, pb, o, c1 - c0);
  }
}

class BinaryKernel : public Kernel {
 public:
  BinaryKernel(BinaryOp op, reference::KernelFn fallback) : op_(op), fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) return fallback_(ctx);
    auto plan = BroadcastPlan::make(a.shape(), b.shape());
    if (!plan) return fallback_(ctx);  // shapes that do not broadcast: the reference names them
    BinaryOp op = op_;
    if (op == BinaryOp::kPow && b.numel() == 1 && b.data<float>()[0] == 2.0f) op = BinaryOp::kSquare;
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, plan->out_shape);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* out = y.mutable_data<float>();
    const int64_t pieces = plan->rows >= kMinRowsToSplit ? 1 : std::clamp<int64_t>(plan->inner / 4096, 1, 64);
    parallel_rows(plan->rows * pieces, plan->rows * plan->inner * kCheapWork,
                  [&](int64_t begin, int64_t end) { binary_units(op, *plan, pa, pb, out, pieces, begin, end); });
    return Status::ok();
  }

 private:
  BinaryOp op_;
  reference::KernelFn fallback_;
};

bool binary_op(std::string_view op, BinaryOp& kind) {
  if (op == "Add")
    kind = BinaryOp::kAdd;
  else if (op == "Sub")
    kind = BinaryOp::kSub;
  else if (op == "Mul")
    kind = BinaryOp::kMul;
  else if (op == "Div")
    kind = BinaryOp::kDiv;
  else if (op == "Pow")
    kind = BinaryOp::kPow;
  else
    return false;
  return true;
}

}  // namespace

KernelResult create_elementwise(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr) return std::unique_ptr<Kernel>();
  // Opsets before 7 broadcast binary ops by legacy attributes: the reference handles those.
  if (node.opset < 7) return std::unique_ptr<Kernel>();
  const std::string_view op = node.op_type;
  BinaryOp binary;
  if (binary_op(op, binary)) return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel>(binary, fallback));
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
  } else if (op == "Erf") {
    kind = Unary::kErf;
  } else if (op == "Sqrt") {
    kind = Unary::kSqrt;
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
FULCRUM_CPU_KERNEL("", Erf, create_elementwise);
FULCRUM_CPU_KERNEL("", Sqrt, create_elementwise);
FULCRUM_CPU_KERNEL("", Add, create_elementwise);
FULCRUM_CPU_KERNEL("", Sub, create_elementwise);
FULCRUM_CPU_KERNEL("", Mul, create_elementwise);
FULCRUM_CPU_KERNEL("", Div, create_elementwise);
FULCRUM_CPU_KERNEL("", Pow, create_elementwise);

}  // namespace fulcrum::backends::cpu
