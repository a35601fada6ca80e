// Transpose of any dtype of 1, 2, 4 or 8 bytes. Size-1 axes are dropped and output axes
// that stay adjacent in the input are merged, so BERT's [0, 2, 1, 3] becomes copies of
// contiguous 64-element runs, and a transpose whose innermost input axis moves (its
// [0, 2, 3, 1]) becomes tiled 2-D transposes that read and write whole cache lines.
#include <cstring>
#include <numeric>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_parallel.h"
#include "backends/reference/kernel.h"
#include "ops/tensor.h"

namespace fulcrum::backends::cpu {
namespace {

constexpr int64_t kTile = 16;

// The transpose as merged output axes, each with its element stride in the input.
struct TransposePlan {
  std::vector<int64_t> dims, in_strides, out_strides;
};

TransposePlan make_plan(const Shape& in, const std::vector<int64_t>& perm) {
  std::vector<int64_t> in_stride(in.size(), 1);
  for (size_t d = in.size(); d-- > 1;) in_stride[d - 1] = in_stride[d] * in[d];
  TransposePlan p;
  for (int64_t axis : perm) {
    const int64_t n = in[static_cast<size_t>(axis)], s = in_stride[static_cast<size_t>(axis)];
    if (n == 1) continue;
    if (!p.dims.empty() && p.in_strides.back() == s * n) {  // continues the previous axis
      p.dims.back() *= n;
      p.in_strides.back() = s;
    } else {
      p.dims.push_back(n);
      p.in_strides.push_back(s);
    }
  }
  p.out_strides.assign(p.dims.size(), 1);
  for (size_t d = p.dims.size(); d-- > 1;) p.out_strides[d - 1] = p.out_strides[d] * p.dims[d];
  return p;
}

// Element offsets in the input and output of outer index r over `axes` (row-major).
void outer_offsets(const TransposePlan& p, const std::vector<size_t>& axes, int64_t r, int64_t& in_off,
                   int64_t& out_off) {
  in_off = out_off = 0;
  for (size_t k = axes.size(); k-- > 0;) {
    const size_t d = axes[k];
    const int64_t i = r % p.dims[d];
    r /= p.dims[d];
    in_off += i * p.in_strides[d];
    out_off += i * p.out_strides[d];
  }
}

template <class T>
void transpose(const TransposePlan& p, const T* in, T* out, int64_t numel) {
  const size_t last = p.dims.size() - 1;
  if (p.in_strides[last] == 1) {
    // Contiguous runs: copy dims[last] elements per outer index.
    std::vector<size_t> axes(last);
    std::iota(axes.begin(), axes.end(), size_t{0});
    const int64_t run = p.dims[last], outer = numel / run;
    parallel_rows(outer, numel, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t io, oo;
        outer_offsets(p, axes, r, io, oo);
        std::memcpy(out + oo, in + io, static_cast<size_t>(run) * sizeof(T));
      }
    });
    return;
  }
  // The axis read contiguously (`a`) and the output's last axis form 2-D tiles.
  size_t a = 0;
  while (p.in_strides[a] != 1) ++a;
  std::vector<size_t> axes;
  for (size_t d = 0; d < last; ++d)
    if (d != a) axes.push_back(d);
  const int64_t na = p.dims[a], nl = p.dims[last], outer = numel / (na * nl);
  const int64_t a_out = p.out_strides[a], l_in = p.in_strides[last];
  const int64_t a_tiles = (na + kTile - 1) / kTile;
  parallel_rows(outer * a_tiles, numel, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t io, oo;
      outer_offsets(p, axes, t / a_tiles, io, oo);
      const int64_t a0 = (t % a_tiles) * kTile, a1 = std::min(na, a0 + kTile);
      for (int64_t l0 = 0; l0 < nl; l0 += kTile) {
        const int64_t l1 = std::min(nl, l0 + kTile);
        for (int64_t ia = a0; ia < a1; ++ia) {
          const T* src = in + io + ia;
          T* dst = out + oo + ia * a_out;
          for (int64_t il = l0; il < l1; ++il) dst[il] = src[il * l_in];
        }
      }
    }
  });
}

class TransposeKernel : public Kernel {
 public:
  explicit TransposeKernel(reference::KernelFn fallback) : fallback_(fallback) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const size_t rank = static_cast<size_t>(x.rank());
    const auto& attrs = ctx.attrs<ops::TransposeAttrs>();
    std::vector<int64_t> perm(rank);
    if (attrs.perm) {
      perm = *attrs.perm;
    } else {
      std::iota(perm.rbegin(), perm.rend(), int64_t{0});
    }
    // A perm that is not a permutation of the axes: the reference names the problem.
    std::vector<bool> seen(rank, false);
    if (perm.size() != rank) return fallback_(ctx);
    for (int64_t axis : perm) {
      if (axis < 0 || axis >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(axis)]) return fallback_(ctx);
      seen[static_cast<size_t>(axis)] = true;
    }
    const size_t size = dtype_size(x.dtype());
    if (size != 1 && size != 2 && size != 4 && size != 8) return fallback_(ctx);
    Shape y_shape(rank);
    for (size_t d = 0; d < rank; ++d) y_shape[d] = x.dim(static_cast<int64_t>(perm[d]));
    Tensor& y = ctx.allocate_output_uninitialized(0, x.dtype(), y_shape);
    if (x.numel() == 0) return Status::ok();
    const TransposePlan plan = make_plan(x.shape(), perm);
    if (plan.dims.size() <= 1) {  // the data does not move
      std::memcpy(y.mutable_raw(), x.raw(), x.nbytes());
      return Status::ok();
    }
    switch (size) {
      case 1: transpose(plan, x.data<uint8_t>(), y.mutable_data<uint8_t>(), x.numel()); break;
      case 2: transpose(plan, x.data<uint16_t>(), y.mutable_data<uint16_t>(), x.numel()); break;
      case 4: transpose(plan, x.data<uint32_t>(), y.mutable_data<uint32_t>(), x.numel()); break;
      default: transpose(plan, x.data<uint64_t>(), y.mutable_data<uint64_t>(), x.numel()); break;
    }
    return Status::ok();
  }

 private:
  reference::KernelFn fallback_;
};

KernelResult create_transpose(const ir::Node& node, const KernelConfig&) {
  reference::KernelFn fallback = reference::find_kernel(node.domain, node.op_type);
  if (fallback == nullptr) return KernelResult(nullptr);
  return KernelResult(std::make_unique<TransposeKernel>(fallback));
}

}  // namespace

FULCRUM_CPU_KERNEL("", Transpose, create_transpose);

}  // namespace fulcrum::backends::cpu
