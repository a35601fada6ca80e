// fulcrum.QConv (ops/quantized_fused.h) on oneDNN's INT8 convolution. The primitive reads
// u8/s8 NHWC and writes NHWC, the layouts its AVX-512 VNNI kernels want: an int8/uint8 X that
// is already NHWC is used in place, so consecutive QConvs pass INT8 tensors with no reorder; a
// float32 X is quantized by one reorder (scale 1/x_scale) into that layout, and an NCHW output
// is reordered out. The int8 weights are packed once, at build time; the per-channel output
// scales and the bias (which oneDNN 2.x adds to the accumulator before the output scales, so
// it is stored divided by them) are computed there too. The epilogue: quant_epilogue.h.
#include <algorithm>
#include <optional>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/cpu/quant_epilogue.h"
#include "core/parallel.h"
#include "ops/quantized_fused.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;
using ops::Layout;

struct QConvEntry {
  dnnl::convolution_forward prim;
  memory::desc x_user, src;  // X as it arrives, and as the primitive reads it
  std::optional<dnnl::reorder> src_in;
  memory::desc y_user, dst;
  std::optional<dnnl::reorder> dst_out;
  memory weights;  // packed for this primitive
  QuantEpilogue epilogue;
};

Tag layout_tag(Layout layout) { return layout == Layout::kNhwc ? Tag::nhwc : Tag::nchw; }

Shape to_logical(const Shape& s, Layout layout) {
  return layout == Layout::kNhwc && s.size() == 4 ? Shape{s[0], s[3], s[1], s[2]} : s;
}

Shape to_physical(const Shape& s, Layout layout) {
  return layout == Layout::kNhwc && s.size() == 4 ? Shape{s[0], s[2], s[3], s[1]} : s;
}

class QConvKernel : public Kernel {
 public:
  QConvKernel(const ops::QConvAttrs& attrs, Tensor weights, Tensor bias)
      : attrs_(attrs), q_(attrs.quant), weights_(weights), w_shape_(weights.shape()) {
    ChannelScales cs = channel_scales(q_, weights.dim(0), bias);
    channel_scales_ = std::move(cs.scales);
    bias_ = std::move(cs.bias);
  }

  Status run(KernelContext& ctx) override;
  // Packs W for the logical input shape `x`, so the first run finds it packed.
  Status pack(const Shape& x, DType x_dtype, const std::vector<QuantOperand>& operands) {
    return catch_dnnl([&]() -> Status {
      FULCRUM_ASSIGN_OR_RETURN(QConvEntry e, make_entry(x, x_dtype, operands));
      weights_.keep(e.weights);
      return Status::ok();
    });
  }
  bool release_constant_input(size_t i) override { return i == 1 && weights_.release(); }
  size_t packed_bytes() const override { return weights_.packed_bytes() + bias_.nbytes(); }

  // The logical NCHW output shape for a logical input shape.
  Result<Shape> output_shape(const Shape& x) const {
    if (x.size() != 4 || x[1] != w_shape()[1] * attrs_.group)
      return invalid_argument("X {} does not fit W {} with group {}", shape_to_string(x), shape_to_string(w_shape()),
                              attrs_.group);
    FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::window_geometry(attrs_, {x[2], x[3]}, kernel()));
    return Shape{x[0], w_shape()[0], g.out[0], g.out[1]};
  }

 private:
  const Shape& w_shape() const { return w_shape_; }
  std::vector<int64_t> kernel() const { return {w_shape()[2], w_shape()[3]}; }
  memory::desc user_weights_desc() const {
    const Shape& w = w_shape();
    if (attrs_.group == 1) return memory::desc(to_dims(w), memory::data_type::s8, Tag::oihw);
    return memory::desc({attrs_.group, w[0] / attrs_.group, w[1], w[2], w[3]}, memory::data_type::s8, Tag::goihw);
  }
  Result<QConvEntry> make_entry(const Shape& x, DType x_dtype, const std::vector<QuantOperand>& operands) const;
  Status execute(KernelContext& ctx, const QConvEntry& e, const Shape& y_shape) const;

  const ops::QConvAttrs& attrs_;
  const ops::QuantParams& q_;
  PackedWeights weights_;              // int8 W
  Shape w_shape_;                      // kept once W is released
  Tensor bias_;                        // B / channel_scales_, or undefined
  std::vector<float> channel_scales_;  // x_scale * w_scales[oc] (one value: a single scale)
  ShapeCache<QConvEntry> cache_;
};

Result<QConvEntry> QConvKernel::make_entry(const Shape& x, DType x_dtype,
                                           const std::vector<QuantOperand>& operands) const {
  FULCRUM_ASSIGN_OR_RETURN(Shape y, output_shape(x));
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::window_geometry(attrs_, {x[2], x[3]}, kernel()));
  const QuantDst dst{y, q_.out_dtype, Tag::nhwc, Tag::nchw, Tag::nhwc};
  QConvEntry e;
  const memory::desc src(to_dims(x), dnnl_dtype(q_.in_dtype), Tag::nhwc);
  const memory::desc weights_any(user_weights_desc().dims(), memory::data_type::s8, Tag::any);
  const memory::desc dst_desc(to_dims(y), dnnl_dtype(q_.out_dtype), Tag::nhwc);
  const memory::dims dilations = {g.dilations[0] - 1, g.dilations[1] - 1};  // oneDNN counts the gaps
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc =
      bias_.defined()
          ? dnnl::convolution_forward::desc(kind, algo, src, weights_any, plain_desc({y[1]}), dst_desc,
                                            to_dims(g.strides), dilations, to_dims(g.pad_begin), to_dims(g.pad_end))
          : dnnl::convolution_forward::desc(kind, algo, src, weights_any, dst_desc, to_dims(g.strides), dilations,
                                            to_dims(g.pad_begin), to_dims(g.pad_end));
  // An INT8 residual read in place (a binary post-op) saves copying it into the destination;
  // where no jit kernel takes that, it is copied for the sum post-op.
  std::optional<dnnl::convolution_forward::primitive_desc> pd;
  for (bool binary_residual : {true, false}) {
    FULCRUM_ASSIGN_OR_RETURN(e.epilogue,
                             plan_quant_epilogue(attrs_.epilogue, q_, dst, operands, channel_scales_, binary_residual));
    try {
      pd.emplace(desc, e.epilogue.attr, dnnl_engine());
    } catch (const dnnl::error&) {
      if (!binary_residual) throw;
      continue;
    }
    if (!binary_residual || std::string(pd->impl_info_str()).rfind("ref", 0) != 0) break;
  }
  e.prim = dnnl::convolution_forward(*pd);
  e.src = pd->src_desc();
  e.dst = pd->dst_desc();
  e.x_user = memory::desc(to_dims(x), dnnl_dtype(x_dtype), layout_tag(attrs_.src_layout));
  if (e.x_user != e.src) {
    dnnl::primitive_attr quantize;
    if (x_dtype == DType::kFloat32) quantize.set_output_scales(0, {1.f / q_.in_scale});
    e.src_in = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.x_user, dnnl_engine(), e.src, quantize));
  }
  e.y_user = memory::desc(to_dims(y), dnnl_dtype(q_.out_dtype), layout_tag(attrs_.dst_layout));
  if (e.y_user != e.dst)
    e.dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.dst, dnnl_engine(), e.y_user));
  e.weights = weights_.in(user_weights_desc(), pd->weights_desc());
  return e;
}

Status QConvKernel::run(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X", "W"}));
  const Tensor& x = ctx.input(0);
  if (x.rank() != 4 || (x.dtype() != DType::kFloat32 && x.dtype() != q_.in_dtype))
    return invalid_argument("expected a 4-D float32 or {} X, got {} {}", dtype_name(q_.in_dtype), dtype_name(x.dtype()),
                            shape_to_string(x.shape()));
  const Shape x_shape = to_logical(x.shape(), attrs_.src_layout);
  FULCRUM_ASSIGN_OR_RETURN(Shape y_shape, output_shape(x_shape));
  const Shape y_physical = to_physical(y_shape, attrs_.dst_layout);
  const std::vector<QuantOperand> operands = quant_operands(attrs_.epilogue, ctx, [](const Tensor& t) {
    return ops::is_8bit(t.dtype()) ? to_logical(t.shape(), Layout::kNhwc) : t.shape();
  });
  std::vector<Shape> key = {x_shape, {static_cast<int64_t>(x.dtype())}};
  for (const QuantOperand& o : operands) key.insert(key.end(), {o.shape, {static_cast<int64_t>(o.dtype)}});
  ThreadScope threads(thread_limit());
  FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get(key, [&] { return make_entry(x_shape, x.dtype(), operands); }));
  return catch_dnnl([&] { return execute(ctx, *entry, y_physical); });
}

Status QConvKernel::execute(KernelContext& ctx, const QConvEntry& e, const Shape& y_physical) const {
  dnnl::stream& stream = dnnl_stream();
  memory src = wrap(ctx.input(0), e.x_user);
  if (e.src_in) {
    memory quantized(e.src, dnnl_engine());
    e.src_in->execute(stream, src, quantized);
    src = quantized;
  }
  Tensor& y = ctx.allocate_output_uninitialized(0, q_.out_dtype, y_physical);
  memory y_mem = wrap(y, e.y_user);
  memory dst = e.dst_out ? memory(e.dst, dnnl_engine()) : y_mem;
  ExecArgs args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, e.weights}, {DNNL_ARG_DST, dst}};
  if (bias_.defined()) args.add(DNNL_ARG_BIAS, wrap(bias_, plain_desc({bias_.dim(0)})));
  prepare_epilogue(e.epilogue, ctx, dst, args);
  args.execute(e.prim, stream);
  if (e.dst_out) e.dst_out->execute(stream, dst, y_mem);
  stream.wait();
  return Status::ok();
}

// The declared logical shape of input i (a symbolic batch as 1), or empty when unknown.
Shape declared_shape(const ir::Node& node, size_t i, Layout layout) {
  const ValueInfo v = value_info(node, i);
  if (v.rank < 0 || std::count(v.dims.begin() + (v.rank > 0 ? 1 : 0), v.dims.end(), -1) > 0) return {};
  Shape s = v.dims;
  if (!s.empty() && s[0] < 0) s[0] = 1;
  return to_logical(s, layout);
}

KernelResult create_qconv(const ir::Node& node, const KernelConfig& config) {
  const auto& a = node.attrs_as<ops::QConvAttrs>();
  const ops::QuantParams& q = a.quant;
  const ValueInfo x = value_info(node, 0), w = value_info(node, 1), b = value_info(node, 2);
  if (x.dtype != DType::kFloat32 && x.dtype != q.in_dtype) return KernelResult(nullptr);
  if (x.rank >= 0 && x.rank != 4) return KernelResult(nullptr);
  if (!w.constant || w.dtype != DType::kInt8 || w.rank != 4 || a.group < 1) return KernelResult(nullptr);
  const int64_t oc = w.dims[0];
  if (q.w_scales.size() != 1 && static_cast<int64_t>(q.w_scales.size()) != oc) return KernelResult(nullptr);
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != nullptr;
  if (has_bias && (!b.constant || b.dtype != DType::kFloat32 || b.dims != Shape{oc})) return KernelResult(nullptr);
  if (!supports_quant_epilogue(a.epilogue, q, node)) return KernelResult(nullptr);
  auto kernel = std::make_unique<QConvKernel>(a, *w.constant, has_bias ? *b.constant : Tensor());
  const Shape hint = declared_shape(node, 0, a.src_layout);
  if (hint.empty()) return KernelResult(std::move(kernel));
  const Result<Shape> y = kernel->output_shape(hint);
  if (!y.is_ok()) return KernelResult(nullptr);  // the reference reports the mismatch when the node runs
  std::vector<QuantOperand> operands;
  for (const ops::PostOp& op : a.epilogue.post_ops) {
    if (op.input < 0) continue;
    const size_t i = static_cast<size_t>(op.input);
    const DType dtype = value_info(node, i).dtype;
    const Shape s = declared_shape(node, i, ops::is_8bit(dtype) ? Layout::kNhwc : Layout::kNchw);
    if (s.empty()) return KernelResult(std::move(kernel));  // packed on the first run
    operands.push_back({s, dtype});
  }
  ThreadScope threads(config.threads);
  // A convolution oneDNN does not take is left to the reference.
  if (!kernel->pack(hint, x.dtype, operands).is_ok()) return KernelResult(nullptr);
  return KernelResult(std::move(kernel));
}

FULCRUM_CPU_KERNEL("fulcrum", QConv, create_qconv);

}  // namespace
}  // namespace fulcrum::backends::cpu
