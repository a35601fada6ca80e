// Reference kernels for the transformer ops of the "fulcrum" domain (ops/fused_transformer.cc),
// computed in double like the ONNX ops they replace.
#include <cmath>

#include "backends/reference/elementwise_common.h"
#include "backends/reference/kernel.h"

namespace fulcrum::backends::reference {
namespace {

// Gelu(x) = x / 2 * (1 + erf(x / sqrt 2)).
Status gelu(KernelContext& ctx) {
  return ew::unary_floating(ctx, [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
}

}  // namespace

FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", Gelu, gelu);

}  // namespace fulcrum::backends::reference
