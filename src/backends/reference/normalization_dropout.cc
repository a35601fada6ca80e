// Reference kernel for Dropout. At inference (the usual case) it is the identity and its
// optional mask is all true. In training mode (opset 12+, input training_mode = true) it
// zeroes each element with probability `ratio` and scales the rest by 1 / (1 - ratio).
#include <random>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/normalization.h"

namespace fulcrum::backends::reference {
namespace {

// Uniform doubles in [0, 1) drawn exactly as numpy's RandomState(seed).uniform does
// (MT19937, 53-bit doubles from two draws), so a seeded Dropout reproduces the ONNX
// reference implementation and its backend tests bit for bit.
class NumpyUniform {
 public:
  explicit NumpyUniform(uint32_t seed) : engine_(seed) {}
  double next() {
    const uint32_t a = engine_() >> 5, b = engine_() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

 private:
  std::mt19937 engine_;
};

struct DropoutMode {
  double ratio = 0.5;
  bool training = false;
};

Result<DropoutMode> dropout_mode(const KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::DropoutAttrs>();
  DropoutMode mode;
  if (ctx.opset() < 12) {
    mode.ratio = a.ratio;
    // Before opset 7 the model chose with is_test (default 0); later the runtime chooses,
    // and an inference engine runs in test mode.
    if (ctx.opset() < 7 && !a.is_test)
      return unimplemented("training mode (is_test=0) before opset 7 is not supported; set is_test=1");
    return mode;
  }
  if (ctx.has_input(1)) {
    if (ctx.input(1).numel() != 1)
      return invalid_argument("input 'ratio' must be a scalar, got shape {}", shape_to_string(ctx.input(1).shape()));
    mode.ratio = read_as_double(ctx.input(1), 0);
  }
  if (ctx.has_input(2)) {
    if (ctx.input(2).numel() != 1)
      return invalid_argument("input 'training_mode' must be a scalar, got shape {}",
                              shape_to_string(ctx.input(2).shape()));
    mode.training = read_as_int64(ctx.input(2), 0) != 0;
  }
  if (mode.training && !(mode.ratio >= 0.0 && mode.ratio < 1.0))
    return invalid_argument("input 'ratio' must be in [0, 1) in training mode, got {}", mode.ratio);
  return mode;
}

// The mask output: bool from opset 10, X's dtype before.
Tensor& allocate_mask(KernelContext& ctx, const Tensor& x) {
  return ctx.allocate_output(1, ctx.opset() >= 10 ? DType::kBool : x.dtype(), x.shape());
}

Status dropout(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FULCRUM_ASSIGN_OR_RETURN(DropoutMode mode, dropout_mode(ctx));
  const bool want_mask = ctx.wants_output(1);
  if (!mode.training || mode.ratio == 0.0) {
    ctx.set_output(0, x);
    if (!want_mask) return Status::ok();
    Tensor& mask = allocate_mask(ctx, x);
    return visit_all(mask.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::fill_n(mask.mutable_data<T>(), mask.numel(), static_cast<T>(1));
      return Status::ok();
    });
  }
  const auto& a = ctx.attrs<ops::DropoutAttrs>();
  NumpyUniform uniform(a.has_seed ? static_cast<uint32_t>(a.seed) : std::random_device{}());
  const double scale = 1.0 / (1.0 - mode.ratio);
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = ctx.allocate_output(0, x.dtype(), x.shape()).template mutable_data<T>();
    bool* keep = want_mask ? allocate_mask(ctx, x).template mutable_data<bool>() : nullptr;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const bool kept = uniform.next() >= mode.ratio;
      y[i] = kept ? static_cast<T>(static_cast<double>(x.data<T>()[i]) * scale) : T(0);
      if (keep != nullptr) keep[i] = kept;
    }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Dropout, dropout);

}  // namespace
}  // namespace fulcrum::backends::reference
