// 2-D float32 Conv on oneDNN's convolution. Constant weights are reordered once, at build
// time, into the layout oneDNN prefers for them; the activations stay NCHW at the kernel's
// edges (reordered in and out around a blocked primitive) until layouts are propagated.
#include "ops/conv.h"
#include <optional>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "core/parallel.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct ConvEntry {
  dnnl::convolution_forward prim;
  memory::desc src, dst;  // the primitive's activation layouts
  // NCHW -> src and dst -> NCHW, when the primitive wants another layout.
  std::optional<dnnl::reorder> src_in, dst_out;
  memory::desc weights_desc;
  memory weights;  // packed for this primitive; empty when W is a run-time input
  Shape y_shape;
};

class ConvKernel : public Kernel {
 public:
  explicit ConvKernel(const ir::Node& node);
  Status run(KernelContext& ctx) override;
  // Packs the constant W for input shape `x_hint`, so the first run finds it packed.
  Status pack(const Shape& x_hint);

 private:
  Result<ConvEntry> make_entry(const Shape& x, const Shape& w) const;
  memory::desc user_weights_desc(const Shape& w) const;
  Status execute(KernelContext& ctx, const ConvEntry& e) const;

  const ops::ConvAttrs& attrs_;
  Tensor weights_;  // the constant W, or undefined
  bool has_bias_;
  memory packed_;  // W packed at build time for the input shape the graph declares
  ShapeCache<ConvEntry> cache_;
};

ConvKernel::ConvKernel(const ir::Node& node)
    : attrs_(node.attrs_as<ops::ConvAttrs>()), has_bias_(node.inputs.size() > 2 && node.inputs[2] != nullptr) {
  if (node.inputs[1]->is_constant()) weights_ = node.inputs[1]->constant;
}

memory::desc ConvKernel::user_weights_desc(const Shape& w) const {
  if (attrs_.group == 1) return plain_desc(w, Tag::oihw);
  return plain_desc({attrs_.group, w[0] / attrs_.group, w[1], w[2], w[3]}, Tag::goihw);
}

Result<ConvEntry> ConvKernel::make_entry(const Shape& x, const Shape& w) const {
  if (x.size() != 4 || x[1] != w[1] * attrs_.group || w[0] % attrs_.group != 0)
    return invalid_argument("X {} does not fit W {} with group {}", shape_to_string(x), shape_to_string(w),
                            attrs_.group);
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::window_geometry(attrs_, {x[2], x[3]}, {w[2], w[3]}));
  ConvEntry e;
  e.y_shape = {x[0], w[0], g.out[0], g.out[1]};
  memory::dims dilations = {g.dilations[0] - 1, g.dilations[1] - 1};  // oneDNN counts the gaps
  const memory::desc weights_any(user_weights_desc(w).dims(), memory::data_type::f32, Tag::any);
  const memory::desc src_any(to_dims(x), memory::data_type::f32, Tag::any);
  const memory::desc dst_any(to_dims(e.y_shape), memory::data_type::f32, Tag::any);
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = has_bias_ ? dnnl::convolution_forward::desc(kind, algo, src_any, weights_any, plain_desc({w[0]}), dst_any,
                                                          to_dims(g.strides), dilations, to_dims(g.pad_begin),
                                                          to_dims(g.pad_end))
                        : dnnl::convolution_forward::desc(kind, algo, src_any, weights_any, dst_any, to_dims(g.strides),
                                                          dilations, to_dims(g.pad_begin), to_dims(g.pad_end));
  dnnl::convolution_forward::primitive_desc pd(desc, dnnl_engine());
  e.prim = dnnl::convolution_forward(pd);
  e.src = pd.src_desc();
  e.dst = pd.dst_desc();
  const memory::desc x_plain = plain_desc(x, Tag::nchw), y_plain = plain_desc(e.y_shape, Tag::nchw);
  if (e.src != x_plain)
    e.src_in = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), x_plain, dnnl_engine(), e.src));
  if (e.dst != y_plain)
    e.dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.dst, dnnl_engine(), y_plain));
  e.weights_desc = pd.weights_desc();
  if (weights_.defined()) {
    e.weights = packed_ && packed_.get_desc() == pd.weights_desc()
                    ? packed_
                    : reorder_to(wrap(weights_, user_weights_desc(w)), pd.weights_desc());
  }
  return e;
}

Status ConvKernel::pack(const Shape& x_hint) {
  return catch_dnnl([&]() -> Status {
    FULCRUM_ASSIGN_OR_RETURN(ConvEntry e, make_entry(x_hint, weights_.shape()));
    packed_ = e.weights;
    return Status::ok();
  });
}

Status ConvKernel::run(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X", "W"}));
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 || x.rank() != 4 || w.rank() != 4)
    return invalid_argument("expected float32 4-D X and W, got {} {} and {} {}", dtype_name(x.dtype()),
                            shape_to_string(x.shape()), dtype_name(w.dtype()), shape_to_string(w.shape()));
  if (has_bias_ && (ctx.input(2).dtype() != DType::kFloat32 || ctx.input(2).shape() != Shape{w.dim(0)}))
    return invalid_argument("bias B must be a 1-D float32 tensor of {} values, got {} {}", w.dim(0),
                            dtype_name(ctx.input(2).dtype()), shape_to_string(ctx.input(2).shape()));
  ThreadScope threads(thread_limit());
  FULCRUM_ASSIGN_OR_RETURN(auto entry,
                           cache_.get({x.shape(), w.shape()}, [&] { return make_entry(x.shape(), w.shape()); }));
  return catch_dnnl([&] { return execute(ctx, *entry); });
}

Status ConvKernel::execute(KernelContext& ctx, const ConvEntry& e) const {
  dnnl::stream& stream = dnnl_stream();
  memory x = wrap(ctx.input(0), plain_desc(ctx.input(0).shape(), Tag::nchw));
  memory src = x;
  if (e.src_in) {
    src = memory(e.src, dnnl_engine());
    e.src_in->execute(stream, x, src);
  }
  memory weights =
      e.weights ? e.weights : reorder_to(wrap(ctx.input(1), user_weights_desc(ctx.input(1).shape())), e.weights_desc);
  Tensor y = empty_float(e.y_shape);
  memory y_mem = wrap(y, plain_desc(e.y_shape, Tag::nchw));
  memory dst = e.dst_out ? memory(e.dst, dnnl_engine()) : y_mem;
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (has_bias_) args[DNNL_ARG_BIAS] = wrap(ctx.input(2), plain_desc({e.y_shape[1]}));
  e.prim.execute(stream, args);
  if (e.dst_out) e.dst_out->execute(stream, dst, y_mem);
  stream.wait();
  ctx.set_output(0, std::move(y));
  return Status::ok();
}

// The input shape the graph declares, with a symbolic batch taken as 1; empty when the
// spatial size is unknown (then the weights are packed on the first run).
Shape declared_input_shape(const ValueInfo& x) {
  if (x.rank != 4 || x.dims[1] < 0 || x.dims[2] < 0 || x.dims[3] < 0) return {};
  return {x.dims[0] < 0 ? 1 : x.dims[0], x.dims[1], x.dims[2], x.dims[3]};
}

}  // namespace

KernelResult create_conv(const ir::Node& node, const KernelConfig& config) {
  const ValueInfo x = value_info(node, 0), w = value_info(node, 1), b = value_info(node, 2);
  const auto& a = node.attrs_as<ops::ConvAttrs>();
  if (x.dtype != DType::kFloat32 || w.dtype != DType::kFloat32 || w.rank != 4) return KernelResult(nullptr);
  if (x.rank >= 0 && x.rank != 4) return KernelResult(nullptr);
  if (node.inputs.size() > 2 && node.inputs[2] != nullptr && b.dtype != DType::kFloat32) return KernelResult(nullptr);
  if (a.group < 1) return KernelResult(nullptr);
  auto kernel = std::make_unique<ConvKernel>(node);
  if (w.constant) {
    const Shape hint = declared_input_shape(x);
    if (!hint.empty() && hint[1] == w.dims[1] * a.group) {
      ThreadScope threads(config.threads);
      // A conv oneDNN does not take (or a geometry the shape does not fit, which the
      // reference reports when the node runs) is left to the next backend.
      if (!kernel->pack(hint).is_ok()) return KernelResult(nullptr);
    }
  }
  return KernelResult(std::move(kernel));
}

FULCRUM_CPU_KERNEL("", Conv, create_conv);

}  // namespace fulcrum::backends::cpu
