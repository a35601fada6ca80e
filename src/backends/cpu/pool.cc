// 2-D float32 MaxPool, AveragePool and GlobalAveragePool on oneDNN's (dilated) pooling,
// on NCHW activations; fulcrum.BlockedPool (ops/layout.h), the same on nChw8c / nChw16c ones;
// fulcrum.NhwcPool on NHWC ones of float32, int8 or uint8 (between INT8 convolutions).
#include "ops/pool.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "core/parallel.h"
#include "ops/layout.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct PoolEntry {
  dnnl::pooling_v2_forward prim;
  memory::desc src, dst;
  Shape y_shape;  // the output tensor's (5-D when blocked)
};

class PoolKernel : public Kernel {
 public:
  // attrs is null for GlobalAveragePool. A blocked kernel reads [N, C/b, H, W, b], an NHWC one
  // [N, H, W, C] of its own dtype.
  PoolKernel(dnnl::algorithm algorithm, const ops::PoolAttrs* attrs, bool blocked = false, bool nhwc = false,
             DType dtype = DType::kFloat32)
      : algorithm_(algorithm), attrs_(attrs), blocked_(blocked), nhwc_(nhwc), dtype_(dtype) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != dtype_ || x.rank() != (blocked_ ? 5 : 4) || (blocked_ && x.dim(4) != 8 && x.dim(4) != 16))
      return invalid_argument("expected a {} {} X, got {} {}", dtype_name(dtype_),
                              blocked_ ? "blocked [N, C/b, H, W, b]"
                              : nhwc_  ? "NHWC"
                                       : "4-D",
                              dtype_name(x.dtype()), shape_to_string(x.shape()));
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get({x.shape()}, [&] { return make_entry(x.shape()); }));
    return catch_dnnl([&] {
      Tensor& y = ctx.allocate_output_uninitialized(0, dtype_, entry->y_shape);
      entry->prim.execute(dnnl_stream(), {{DNNL_ARG_SRC, wrap(x, entry->src)}, {DNNL_ARG_DST, wrap(y, entry->dst)}});
      dnnl_stream().wait();
      return Status::ok();
    });
  }

 private:
  Result<ops::WindowGeometry> geometry(const Shape& x) const {
    if (attrs_ != nullptr) return ops::window_geometry(*attrs_, {x[2], x[3]}, attrs_->kernel_shape, attrs_->ceil_mode);
    ops::WindowGeometry g;
    g.in = g.kernel = {x[2], x[3]};
    g.strides = g.dilations = g.out = {1, 1};
    g.pad_begin = g.pad_end = {0, 0};
    return g;
  }

  Result<PoolEntry> make_entry(const Shape& x_tensor) const {
    const int64_t block = blocked_ ? x_tensor[4] : 1;
    const Shape x = blocked_ ? Shape{x_tensor[0], x_tensor[1] * block, x_tensor[2], x_tensor[3]}
                    : nhwc_  ? Shape{x_tensor[0], x_tensor[3], x_tensor[1], x_tensor[2]}
                             : x_tensor;
    FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, geometry(x));
    memory::dims pad_end = to_dims(g.pad_end), dilations(2);
    for (size_t d = 0; d < 2; ++d) {
      dilations[d] = g.dilations[d] - 1;  // oneDNN counts the gaps
      // ceil_mode's last window may hang past the padded input; oneDNN wants that overhang
      // as end padding (it never reads padding, so max and exclude-pad average agree).
      const int64_t reach = (g.out[d] - 1) * g.strides[d] + (g.kernel[d] - 1) * g.dilations[d] + 1;
      pad_end[d] = std::max(pad_end[d], reach - g.in[d] - g.pad_begin[d]);
    }
    PoolEntry e;
    const Shape y = {x[0], x[1], g.out[0], g.out[1]};
    const Tag tag = nhwc_ ? Tag::nhwc : block == 16 ? Tag::nChw16c : block == 8 ? Tag::nChw8c : Tag::nchw;
    const auto dt = dtype_ == DType::kInt8    ? memory::data_type::s8
                    : dtype_ == DType::kUInt8 ? memory::data_type::u8
                                              : memory::data_type::f32;
    e.src = memory::desc(to_dims(x), dt, tag);
    e.dst = memory::desc(to_dims(y), dt, tag);
    // A global pool's [N, C, 1, 1] is laid out alike blocked or not: its output stays NCHW.
    const bool blocked_out = blocked_ && attrs_ != nullptr;
    e.y_shape = blocked_out ? Shape{y[0], y[1] / block, y[2], y[3], block} : nhwc_ ? Shape{y[0], y[2], y[3], y[1]} : y;
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm_, e.src, e.dst,
                                        to_dims(g.strides), to_dims(g.kernel), dilations, to_dims(g.pad_begin),
                                        pad_end);
    e.prim = dnnl::pooling_v2_forward(dnnl::pooling_v2_forward::primitive_desc(desc, dnnl_engine()));
    return e;
  }

  dnnl::algorithm algorithm_;
  const ops::PoolAttrs* attrs_;
  bool blocked_, nhwc_;
  DType dtype_;
  ShapeCache<PoolEntry> cache_;
};

KernelResult make_pool(const ir::Node& node, const std::string& op, const ops::OpAttrs& attrs, bool blocked) {
  const ValueInfo x = value_info(node, 0);
  if (x.dtype != DType::kFloat32 || (x.rank >= 0 && x.rank != (blocked ? 5 : 4))) return KernelResult(nullptr);
  if (op == "GlobalAveragePool")
    return KernelResult(std::make_unique<PoolKernel>(dnnl::algorithm::pooling_avg_exclude_padding, nullptr, blocked));
  const auto& a = static_cast<const ops::PoolAttrs&>(attrs);
  if (a.kernel_shape.size() != 2) return KernelResult(nullptr);
  if (op == "MaxPool") {
    const bool wants_indices = node.outputs.size() > 1 && node.outputs[1] != nullptr;
    if (wants_indices) return KernelResult(nullptr);
    return KernelResult(std::make_unique<PoolKernel>(dnnl::algorithm::pooling_max, &a, blocked));
  }
  // With ceil_mode the overhang would count as padding in the include-pad divisor.
  if (a.count_include_pad && a.ceil_mode) return KernelResult(nullptr);
  return KernelResult(std::make_unique<PoolKernel>(
      a.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding : dnnl::algorithm::pooling_avg_exclude_padding,
      &a, blocked));
}

}  // namespace

KernelResult create_pool(const ir::Node& node, const KernelConfig&) {
  return make_pool(node, node.op_type, *node.typed_attrs, false);
}

KernelResult create_blocked_pool(const ir::Node& node, const KernelConfig&) {
  const auto& a = node.attrs_as<ops::BlockedPoolAttrs>();
  return make_pool(node, a.pool, *a.pool_attrs, true);
}

// MaxPool only: an average of quantized values would need its own rounding rules.
KernelResult create_nhwc_pool(const ir::Node& node, const KernelConfig&) {
  const auto& a = node.attrs_as<ops::BlockedPoolAttrs>();
  const ValueInfo x = value_info(node, 0);
  const bool dtype_ok = x.dtype == DType::kFloat32 || x.dtype == DType::kInt8 || x.dtype == DType::kUInt8;
  if (a.pool != "MaxPool" || !dtype_ok || (x.rank >= 0 && x.rank != 4)) return KernelResult(nullptr);
  const auto& p = static_cast<const ops::PoolAttrs&>(*a.pool_attrs);
  if (p.kernel_shape.size() != 2 || (node.outputs.size() > 1 && node.outputs[1] != nullptr))
    return KernelResult(nullptr);
  return KernelResult(std::make_unique<PoolKernel>(dnnl::algorithm::pooling_max, &p, false, true, x.dtype));
}

FULCRUM_CPU_KERNEL("", MaxPool, create_pool);
FULCRUM_CPU_KERNEL("fulcrum", NhwcPool, create_nhwc_pool);
FULCRUM_CPU_KERNEL("", AveragePool, create_pool);
FULCRUM_CPU_KERNEL("", GlobalAveragePool, create_pool);
FULCRUM_CPU_KERNEL("fulcrum", BlockedPool, create_blocked_pool);

}  // namespace fulcrum::backends::cpu
