// 2-D float32 MaxPool, AveragePool and GlobalAveragePool on oneDNN's (dilated) pooling,
// on NCHW activations.
#include "ops/pool.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "core/parallel.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct PoolEntry {
  dnnl::pooling_v2_forward prim;
  Shape y_shape;
};

class PoolKernel : public Kernel {
 public:
  // attrs is null for GlobalAveragePool.
  PoolKernel(dnnl::algorithm algorithm, const ops::PoolAttrs* attrs) : algorithm_(algorithm), attrs_(attrs) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kFloat32 || x.rank() != 4)
      return invalid_argument("expected a float32 4-D X, got {} {}", dtype_name(x.dtype()), shape_to_string(x.shape()));
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get({x.shape()}, [&] { return make_entry(x.shape()); }));
    return catch_dnnl([&] {
      Tensor y = empty_float(entry->y_shape);
      entry->prim.execute(dnnl_stream(), {{DNNL_ARG_SRC, wrap(x, plain_desc(x.shape()))},
                                          {DNNL_ARG_DST, wrap(y, plain_desc(entry->y_shape))}});
      dnnl_stream().wait();
      ctx.set_output(0, std::move(y));
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

  Result<PoolEntry> make_entry(const Shape& x) const {
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
    e.y_shape = {x[0], x[1], g.out[0], g.out[1]};
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm_, plain_desc(x),
                                        plain_desc(e.y_shape), to_dims(g.strides), to_dims(g.kernel), dilations,
                                        to_dims(g.pad_begin), pad_end);
    e.prim = dnnl::pooling_v2_forward(dnnl::pooling_v2_forward::primitive_desc(desc, dnnl_engine()));
    return e;
  }

  dnnl::algorithm algorithm_;
  const ops::PoolAttrs* attrs_;
  ShapeCache<PoolEntry> cache_;
};

}  // namespace

KernelResult create_pool(const ir::Node& node, const KernelConfig&) {
  const ValueInfo x = value_info(node, 0);
  if (x.dtype != DType::kFloat32 || (x.rank >= 0 && x.rank != 4)) return KernelResult(nullptr);
  if (node.op_type == "GlobalAveragePool")
    return KernelResult(std::make_unique<PoolKernel>(dnnl::algorithm::pooling_avg_exclude_padding, nullptr));
  const auto& a = node.attrs_as<ops::PoolAttrs>();
  if (a.kernel_shape.size() != 2) return KernelResult(nullptr);
  if (node.op_type == "MaxPool") {
    const bool wants_indices = node.outputs.size() > 1 && node.outputs[1] != nullptr;
    if (wants_indices) return KernelResult(nullptr);
    return KernelResult(std::make_unique<PoolKernel>(dnnl::algorithm::pooling_max, &a));
  }
  // With ceil_mode the overhang would count as padding in the include-pad divisor.
  if (a.count_include_pad && a.ceil_mode) return KernelResult(nullptr);
  return KernelResult(std::make_unique<PoolKernel>(
      a.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding : dnnl::algorithm::pooling_avg_exclude_padding,
      &a));
}

FULCRUM_CPU_KERNEL("", MaxPool, create_pool);
FULCRUM_CPU_KERNEL("", AveragePool, create_pool);
FULCRUM_CPU_KERNEL("", GlobalAveragePool, create_pool);

}  // namespace fulcrum::backends::cpu
