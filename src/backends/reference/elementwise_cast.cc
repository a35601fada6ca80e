// Reference kernels for Cast and CastLike between every dtype Fulcrum holds.
#include <string>

#include "backends/reference/elementwise_common.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::reference {
namespace {

// Conversions follow ew::convert: floating targets round to nearest even (float16 and
// bfloat16 included), floating -> integer truncates toward zero and saturates (NaN -> 0;
// ONNX leaves out-of-range values unspecified before opset 19), integer -> integer wraps,
// and anything -> bool tests "!= 0".
Status cast_to(KernelContext& ctx, DType to, const std::string& to_name) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 0, "input"));
  const Tensor& x = ctx.input(0);
  if (to == DType::kUndefined) return unimplemented("Cast to {} is not supported", to_name);
  return ew::visit_any(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return ew::visit_any(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      Tensor& y = ctx.allocate_output(0, to, x.shape());
      const From* in = x.data<From>();
      To* out = y.mutable_data<To>();
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = ew::convert<To>(in[i]);
      return Status::ok();
    });
  });
}

Status cast(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::CastAttrs>();
  return cast_to(ctx, a.to, a.to_name);
}

Status cast_like(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ew::require_input(ctx, 1, "target_type"));
  const DType to = ctx.input(1).dtype();
  return cast_to(ctx, to, dtype_name(to));
}

FULCRUM_REFERENCE_KERNEL(Cast, cast);
FULCRUM_REFERENCE_KERNEL(CastLike, cast_like);

}  // namespace
}  // namespace fulcrum::backends::reference
