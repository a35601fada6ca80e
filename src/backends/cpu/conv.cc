// 2-D float32 Conv and fulcrum.FusedConv on oneDNN's convolution. Constant weights are
// reordered once, at build time, into the layout oneDNN prefers for them. A fused node's
// epilogue runs as oneDNN post-ops (post_ops.h). Activations are NCHW, or nChw8c / nChw16c where the
// node says so (src_layout / dst_layout, set by the cpu_blocked_layout pass): a blocked
// tensor goes into and out of the primitive as is, a plain one is reordered around it
// when the primitive wants another layout.
#include "ops/conv.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>

#include "backends/cpu/blocked_conv.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/cpu/post_ops.h"
#include "core/parallel.h"
#include "ops/fused.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;
using ops::Layout;

struct ConvEntry {
  dnnl::convolution_forward prim;
  memory::desc src, dst;  // the primitive's activation layouts
  // X -> src and dst -> Y, when the primitive wants another layout than the tensors have.
  std::optional<dnnl::reorder> src_in, dst_out;
  memory::desc weights_desc;
  memory weights;  // packed for this primitive; empty when W is a run-time input
  EpiloguePlan epilogue;
  Shape y_shape;                      // logical NCHW
  Shape y_physical;                   // as Y holds it
  memory::desc x_user, y_user, bias;  // the tensors' own layouts
  // X's, W's and the post-op operands' shapes as the tensors hold them: a run with these
  // takes this entry without building a cache key.
  std::vector<Shape> physical_key;
};

// Winograd F(2x2 | 4x4, 3x3) does a 3x3 stride-1 conv in a third to a half of direct's
// time (ResNet-50's 3x3 convs, 2 threads, batch 1: 0.93-0.98 ms direct, 0.34-0.51 ms
// Winograd; errors against a double-precision conv no larger than direct's, 1e-5 at most),
// where both sides have 32 channels or more (16 channels at 112x112 was slower). Its
// transformed weights are 1.8x (F(2,3)) to 4x (F(4,3)) W's size, and W stays besides, so
// convs whose W exceeds 4 MiB (ResNet-50's 512-channel stage) keep the direct kernel.
bool winograd_candidate(const ops::ConvAttrs& a, const Tensor& w) {
  constexpr size_t kMaxWeightBytes = size_t{4} << 20;
  const auto ones = [](const std::vector<int64_t>& v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x == 1; });
  };
  return w.defined() && w.rank() == 4 && a.group == 1 && w.dim(2) == 3 && w.dim(3) == 3 && w.dim(0) >= 32 &&
         w.dim(1) >= 32 && w.nbytes() <= kMaxWeightBytes && ones(a.strides) && ones(a.dilations);
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(const ir::Node& node, const ops::ConvAttrs& attrs, const ops::FusedConvAttrs* fused);
  Status run(KernelContext& ctx) override;
  // Packs the constant W for input shape `x_hint` (logical NCHW), so the first run finds
  // it packed. `operands` are the shapes of the epilogue's binary operands.
  Status pack(const Shape& x_hint, const std::vector<Shape>& operands);
  bool winograd() const { return winograd_; }
  bool release_constant_input(size_t i) override { return i == 1 && weights_.release(); }
  size_t packed_bytes() const override { return weights_.packed_bytes(); }

 private:
  Result<ConvEntry> make_entry(const Shape& x, const Shape& w, const std::vector<Shape>& operands) const;
  memory::desc user_weights_desc(const Shape& w) const;
  // The entry for this run's shapes (checking the inputs), from the cache or made.
  Result<std::shared_ptr<const ConvEntry>> find_entry(const KernelContext& ctx);
  // Whether the last run's entry fits this run's inputs as they are.
  bool fits(const ConvEntry& e, const KernelContext& ctx) const;
  Status execute(KernelContext& ctx, const ConvEntry& e) const;

  const ops::ConvAttrs& attrs_;
  const ops::Epilogue* epilogue_;  // null for a plain Conv
  Layout src_layout_ = Layout::kNchw, dst_layout_ = Layout::kNchw;
  PackedWeights weights_;  // a constant W (none when W is a run-time input)
  bool has_bias_;
  // A 3x3 stride-1 conv that tries oneDNN's Winograd kernels (see winograd_candidate()).
  // Their weights are packed into a transformed layout no reorder reads back, so W stays
  // and each input shape packs its own on its first run.
  bool winograd_ = false;
  ShapeCache<ConvEntry> cache_;
  std::atomic<std::shared_ptr<const ConvEntry>> last_;  // the last run's entry
};

ConvKernel::ConvKernel(const ir::Node& node, const ops::ConvAttrs& attrs, const ops::FusedConvAttrs* fused)
    : attrs_(attrs),
      epilogue_(fused ? &fused->epilogue : nullptr),
      has_bias_(node.inputs.size() > 2 && node.inputs[2] != nullptr) {
  if (fused) {
    src_layout_ = fused->src_layout;
    dst_layout_ = fused->dst_layout;
  }
  if (node.inputs[1]->is_constant()) weights_ = PackedWeights(node.inputs[1]->constant);
  winograd_ = winograd_candidate(attrs, weights_.constant());
}

memory::desc ConvKernel::user_weights_desc(const Shape& w) const {
  if (attrs_.group == 1) return plain_desc(w, Tag::oihw);
  return plain_desc({attrs_.group, w[0] / attrs_.group, w[1], w[2], w[3]}, Tag::goihw);
}

Result<ConvEntry> ConvKernel::make_entry(const Shape& x, const Shape& w, const std::vector<Shape>& operands) const {
  if (x.size() != 4 || x[1] != w[1] * attrs_.group || w[0] % attrs_.group != 0)
    return invalid_argument("X {} does not fit W {} with group {}", shape_to_string(x), shape_to_string(w),
                            attrs_.group);
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::window_geometry(attrs_, {x[2], x[3]}, {w[2], w[3]}));
  ConvEntry e;
  e.y_shape = {x[0], w[0], g.out[0], g.out[1]};
  memory::dims dilations = {g.dilations[0] - 1, g.dilations[1] - 1};  // oneDNN counts the gaps
  const memory::desc weights_any(user_weights_desc(w).dims(), memory::data_type::f32, Tag::any);
  const auto any = [](const Shape& s) { return memory::desc(to_dims(s), memory::data_type::f32, Tag::any); };
  // A full-shape (residual) operand is read in the destination's layout, so a plain
  // destination must then be NCHW: left to oneDNN, it would pick NHWC and find no kernel but
  // the reference one for an NCHW operand.
  const bool full_operand = std::find(operands.begin(), operands.end(), e.y_shape) != operands.end();
  const memory::desc dst_want =
      dst_layout_ != Layout::kNchw || full_operand ? activation_desc(e.y_shape, dst_layout_) : any(e.y_shape);
  dnnl::primitive_attr attr;
  if (epilogue_ != nullptr) {
    FULCRUM_ASSIGN_OR_RETURN(e.epilogue, plan_epilogue(*epilogue_, e.y_shape, operands, conv_layout_tag(dst_layout_)));
    attr.set_post_ops(e.epilogue.ops);
  }
  const auto kind = dnnl::prop_kind::forward_inference;
  auto algo = dnnl::algorithm::convolution_direct;
  const auto make_pd = [&](const memory::desc& src) {
    auto desc = has_bias_ ? dnnl::convolution_forward::desc(kind, algo, src, weights_any, plain_desc({w[0]}), dst_want,
                                                            to_dims(g.strides), dilations, to_dims(g.pad_begin),
                                                            to_dims(g.pad_end))
                          : dnnl::convolution_forward::desc(kind, algo, src, weights_any, dst_want, to_dims(g.strides),
                                                            dilations, to_dims(g.pad_begin), to_dims(g.pad_end));
    return dnnl::convolution_forward::primitive_desc(desc, attr, dnnl_engine());
  };
  // A blocked tensor is used in place; a plain one lets oneDNN choose, and is reordered.
  const memory::desc src_want = src_layout_ != Layout::kNchw ? activation_desc(x, src_layout_) : any(x);
  std::optional<dnnl::convolution_forward::primitive_desc> winograd;
  if (winograd_) {
    algo = dnnl::algorithm::convolution_winograd;
    try {
      winograd = make_pd(src_want);
    } catch (const dnnl::error&) {  // no Winograd kernel for this shape, ISA or epilogue
    }
    algo = dnnl::algorithm::convolution_direct;
  }
  auto pd = winograd ? *winograd : make_pd(src_want);
  // No jit kernel reads a blocked source into an NCHW destination with a residual: then the
  // source is reordered to the layout the primitive prefers.
  if (src_layout_ != Layout::kNchw && std::string(pd.impl_info_str()).rfind("ref", 0) == 0) pd = make_pd(any(x));
  e.prim = dnnl::convolution_forward(pd);
  e.src = pd.src_desc();
  e.dst = pd.dst_desc();
  e.x_user = activation_desc(x, src_layout_);
  e.y_user = activation_desc(e.y_shape, dst_layout_);
  e.y_physical = physical_shape(e.y_shape, dst_layout_);
  e.bias = plain_desc({e.y_shape[1]});
  if (e.src != e.x_user)
    e.src_in = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.x_user, dnnl_engine(), e.src));
  if (e.dst != e.y_user)
    e.dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.dst, dnnl_engine(), e.y_user));
  e.weights_desc = pd.weights_desc();
  if (weights_.defined()) e.weights = weights_.in(user_weights_desc(w), pd.weights_desc());
  return e;
}

Status ConvKernel::pack(const Shape& x_hint, const std::vector<Shape>& operands) {
  return catch_dnnl([&]() -> Status {
    FULCRUM_ASSIGN_OR_RETURN(ConvEntry e, make_entry(x_hint, weights_.constant().shape(), operands));
    weights_.keep(e.weights);
    return Status::ok();
  });
}

Status ConvKernel::run(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(ctx.require_inputs({"X", "W"}));
  ThreadScope threads(thread_limit());
  std::shared_ptr<const ConvEntry> entry = last_.load();
  if (!entry || !fits(*entry, ctx)) {
    FULCRUM_ASSIGN_OR_RETURN(entry, find_entry(ctx));
    last_.store(entry);
  }
  return catch_dnnl([&] { return execute(ctx, *entry); });
}

bool ConvKernel::fits(const ConvEntry& e, const KernelContext& ctx) const {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 || x.shape() != e.physical_key[0] ||
      w.shape() != e.physical_key[1])
    return false;
  if (has_bias_) {
    const Tensor& b = ctx.input(2);
    if (b.dtype() != DType::kFloat32 || b.rank() != 1 || b.dim(0) != w.dim(0)) return false;
  }
  size_t k = 2;
  if (epilogue_ != nullptr)
    for (const ops::PostOp& op : epilogue_->post_ops)
      if (op.input >= 0 && ctx.input(static_cast<size_t>(op.input)).shape() != e.physical_key[k++]) return false;
  return true;
}

Result<std::shared_ptr<const ConvEntry>> ConvKernel::find_entry(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const int64_t x_rank = src_layout_ != Layout::kNchw ? 5 : 4;
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 || x.rank() != x_rank || w.rank() != 4)
    return invalid_argument("expected float32 {}-D X and 4-D W, got {} {} and {} {}", x_rank, dtype_name(x.dtype()),
                            shape_to_string(x.shape()), dtype_name(w.dtype()), shape_to_string(w.shape()));
  const int64_t in_channels = w.dim(1) * attrs_.group;
  if (x_rank == 5 && (x.dim(4) != ops::layout_block(src_layout_) ||
                      physical_shape(logical_shape(x.shape(), src_layout_, in_channels), src_layout_) != x.shape()))
    return invalid_argument("blocked X {} does not hold {} channels in blocks of {}", shape_to_string(x.shape()),
                            in_channels, ops::layout_block(src_layout_));
  if (has_bias_ && (ctx.input(2).dtype() != DType::kFloat32 || ctx.input(2).shape() != Shape{w.dim(0)}))
    return invalid_argument("bias B must be a 1-D float32 tensor of {} values, got {} {}", w.dim(0),
                            dtype_name(ctx.input(2).dtype()), shape_to_string(ctx.input(2).shape()));
  const Shape x_shape = logical_shape(x.shape(), src_layout_, in_channels);
  const std::vector<Shape> physical_operands = epilogue_ ? operand_shapes(*epilogue_, ctx) : std::vector<Shape>{};
  std::vector<Shape> operands = physical_operands;
  if (dst_layout_ != Layout::kNchw)  // a blocked residual is [N, C/b, H, W, b]: key on its logical shape
    for (Shape& s : operands) s = logical_shape(s, dst_layout_, w.dim(0));
  std::vector<Shape> key = {x_shape, w.shape()};
  key.insert(key.end(), operands.begin(), operands.end());
  return cache_.get(key, [&]() -> Result<ConvEntry> {
    FULCRUM_ASSIGN_OR_RETURN(ConvEntry e, make_entry(x_shape, w.shape(), operands));
    e.physical_key = {x.shape(), w.shape()};
    e.physical_key.insert(e.physical_key.end(), physical_operands.begin(), physical_operands.end());
    return e;
  });
}

Status ConvKernel::execute(KernelContext& ctx, const ConvEntry& e) const {
  dnnl::stream& stream = dnnl_stream();
  memory x = wrap(ctx.input(0), e.x_user);
  memory src = x;
  if (e.src_in) {
    src = memory(e.src, dnnl_engine());
    e.src_in->execute(stream, x, src);
  }
  memory weights =
      e.weights ? e.weights : reorder_to(wrap(ctx.input(1), user_weights_desc(ctx.input(1).shape())), e.weights_desc);
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, e.y_physical);
  memory y_mem = wrap(y, e.y_user);
  memory dst = e.dst_out ? memory(e.dst, dnnl_engine()) : y_mem;
  ExecArgs args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (has_bias_) args.add(DNNL_ARG_BIAS, wrap(ctx.input(2), e.bias));
  add_operand_args(e.epilogue, ctx, args);
  args.execute(e.prim, stream);
  if (e.dst_out) e.dst_out->execute(stream, dst, y_mem);
  stream.wait();
  return Status::ok();
}

// The logical input shape (of `channels` channels) the graph declares, with a symbolic batch
// taken as 1; empty when the spatial size is unknown (then the weights are packed on the
// first run).
Shape declared_input_shape(const ValueInfo& x, Layout layout, int64_t channels) {
  const int64_t rank = layout != Layout::kNchw ? 5 : 4;
  if (x.rank != rank) return {};
  for (int64_t d = 1; d < rank; ++d)
    if (x.dims[d] < 0) return {};
  Shape s = x.dims;
  if (s[0] < 0) s[0] = 1;
  const Shape logical = logical_shape(s, layout, channels);
  return physical_shape(logical, layout) == s ? logical : Shape{};
}

KernelResult make_conv(const ir::Node& node, const KernelConfig& config, const ops::ConvAttrs& a,
                       const ops::FusedConvAttrs* fused) {
  const ValueInfo x = value_info(node, 0), w = value_info(node, 1), b = value_info(node, 2);
  const Layout src_layout = fused ? fused->src_layout : Layout::kNchw;
  if (x.dtype != DType::kFloat32 || w.dtype != DType::kFloat32 || w.rank != 4) return KernelResult(nullptr);
  if (x.rank >= 0 && x.rank != (src_layout != Layout::kNchw ? 5 : 4)) return KernelResult(nullptr);
  if (node.inputs.size() > 2 && node.inputs[2] != nullptr && b.dtype != DType::kFloat32) return KernelResult(nullptr);
  if (a.group < 1) return KernelResult(nullptr);
  if (fused && !supports_epilogue(fused->epilogue, node)) return KernelResult(nullptr);
  auto kernel = std::make_unique<ConvKernel>(node, a, fused);
  if (!w.constant || kernel->winograd()) return KernelResult(std::move(kernel));
  const Shape hint = declared_input_shape(x, src_layout, w.dims[1] * a.group);
  if (hint.empty() || hint[1] != w.dims[1] * a.group) return KernelResult(std::move(kernel));
  // Operand shapes as declared (a symbolic batch as 1); unknown ones defer packing to the first run.
  std::vector<Shape> operands;
  if (fused) {
    for (const ops::PostOp& op : fused->epilogue.post_ops) {
      if (op.input < 0) continue;
      const ValueInfo o = value_info(node, static_cast<size_t>(op.input));
      if (o.rank < 0 || std::count(o.dims.begin() + 1, o.dims.end(), -1) > 0) return KernelResult(std::move(kernel));
      Shape s = o.dims;
      if (!s.empty() && s[0] < 0) s[0] = 1;
      operands.push_back(logical_shape(s, fused->dst_layout, w.dims[0]));
    }
  }
  ThreadScope threads(config.threads);
  // A conv oneDNN does not take (or a geometry the shape does not fit, which the reference
  // reports when the node runs) is left to the next backend.
  if (!kernel->pack(hint, operands).is_ok()) return KernelResult(nullptr);
  return KernelResult(std::move(kernel));
}

}  // namespace

KernelResult create_conv(const ir::Node& node, const KernelConfig& config) {
  return make_conv(node, config, node.attrs_as<ops::ConvAttrs>(), nullptr);
}

KernelResult create_fused_conv(const ir::Node& node, const KernelConfig& config) {
  const auto& a = node.attrs_as<ops::FusedConvAttrs>();
  return make_conv(node, config, a, &a);
}

FULCRUM_CPU_KERNEL("", Conv, create_conv);
FULCRUM_CPU_KERNEL("fulcrum", FusedConv, create_fused_conv);

}  // namespace fulcrum::backends::cpu
