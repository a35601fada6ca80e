// Reference kernels of the blocked-layout ops (ops/layout.h), written as plain index maps.
#include "backends/reference/layout.h"
#include "backends/reference/tensor_util.h"

#include "core/error.h"
#include "ops/layout.h"

namespace fulcrum::backends::reference {
namespace {

// Copies between NCHW element (n, c, s) (s the flattened spatial index, c < channels) and
// its blocked position [n, c / b, s, c % b] (of `blocks` blocks per image).
template <bool kToBlocked>
void copy_blocks(const float* src, float* dst, int64_t n, int64_t channels, int64_t blocks, int64_t spatial,
                 int64_t block) {
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < channels; ++ic)
      for (int64_t s = 0; s < spatial; ++s) {
        const int64_t plain = (in * channels + ic) * spatial + s;
        const int64_t blocked = ((in * blocks + ic / block) * spatial + s) * block + ic % block;
        if (kToBlocked)
          dst[blocked] = src[plain];
        else
          dst[plain] = src[blocked];
      }
}

Status to_blocked_kernel(KernelContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, to_blocked(ctx.input(0), ctx.attrs<ops::ReorderToBlockedAttrs>().block));
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

Status from_blocked_kernel(KernelContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, from_blocked(ctx.input(0)));
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

// The pool on the unblocked tensor; Max/AveragePool's result blocked again.
Status blocked_pool(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::BlockedPoolAttrs>();
  const int64_t block = ctx.input(0).rank() == 5 ? ctx.input(0).dim(4) : 0;
  FULCRUM_ASSIGN_OR_RETURN(Tensor x, from_blocked(ctx.input(0)));
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, run_stage(ctx.node(), "", a.pool, a.pool_opset, a.pool_attrs, {&x}));
  if (a.pool != "GlobalAveragePool") {
    FULCRUM_ASSIGN_OR_RETURN(y, to_blocked(y, block));
  }
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

Status nhwc_pool(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::BlockedPoolAttrs>();
  const Tensor& in = ctx.input(0);
  if (in.rank() != 4) return invalid_argument("expected a 4-D NHWC X, got {}", shape_to_string(in.shape()));
  const Tensor x = tensor_kernels::permute(in, in.shape(), {0, 3, 1, 2});
  FULCRUM_ASSIGN_OR_RETURN(Tensor y, run_stage(ctx.node(), "", a.pool, a.pool_opset, a.pool_attrs, {&x}));
  ctx.set_output(0, tensor_kernels::permute(y, y.shape(), {0, 2, 3, 1}));
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", ReorderToBlocked, to_blocked_kernel);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", NhwcPool, nhwc_pool);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", ReorderFromBlocked, from_blocked_kernel);
FULCRUM_REFERENCE_KERNEL_DOMAIN("fulcrum", BlockedPool, blocked_pool);

}  // namespace

Result<Tensor> to_blocked(const Tensor& x, int64_t block) {
  if (x.dtype() != DType::kFloat32 || x.rank() != 4 || (block != 8 && block != 16))
    return invalid_argument("expected a float32 [N, C, H, W] tensor and a block of 8 or 16, got {} {} and {}",
                            dtype_name(x.dtype()), shape_to_string(x.shape()), block);
  const int64_t blocks = (x.dim(1) + block - 1) / block;
  Tensor y = Tensor::zeros(DType::kFloat32, {x.dim(0), blocks, x.dim(2), x.dim(3), block});
  copy_blocks<true>(x.data<float>(), y.mutable_data<float>(), x.dim(0), x.dim(1), blocks, x.dim(2) * x.dim(3), block);
  return y;
}

Result<Tensor> from_blocked(const Tensor& x, int64_t channels) {
  if (x.dtype() != DType::kFloat32 || x.rank() != 5 || (x.dim(4) != 8 && x.dim(4) != 16))
    return invalid_argument("expected a float32 blocked [N, C/b, H, W, b] tensor (b = 8 or 16), got {} {}",
                            dtype_name(x.dtype()), shape_to_string(x.shape()));
  const int64_t block = x.dim(4), blocks = x.dim(1);
  if (channels < 0) channels = blocks * block;
  if (channels > blocks * block || channels <= (blocks - 1) * block)
    return invalid_argument("a blocked tensor {} cannot hold {} channels", shape_to_string(x.shape()), channels);
  Tensor y = Tensor::zeros(DType::kFloat32, {x.dim(0), channels, x.dim(2), x.dim(3)});
  copy_blocks<false>(x.data<float>(), y.mutable_data<float>(), x.dim(0), channels, blocks, x.dim(2) * x.dim(3), block);
  return y;
}

}  // namespace fulcrum::backends::reference
