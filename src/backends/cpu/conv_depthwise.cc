// fulcrum.FusedConvDepthwise (ops/fused.h) as one oneDNN convolution: the pointwise conv
// with its eltwise post-ops, the depthwise conv as a depthwise post-op (append_dw), then the
// depthwise conv's eltwise post-ops. oneDNN computes the pointwise output a few rows at a
// time and feeds them to the depthwise conv while they are in cache. Both weights are
// packed once, for the input shape the graph declares (another shape packs on its first
// run from the packed copies); the biases are read from the node's inputs.
#include <algorithm>
#include <atomic>
#include <memory>

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

constexpr size_t kDwWeights = ops::kDepthwiseWeightsInput;
constexpr size_t kDwBias = ops::kDepthwiseWeightsInput + 1;

struct Entry {
  dnnl::convolution_forward prim;
  memory pw_weights, dw_weights;  // packed for this primitive
  memory::desc x_user, y_user, pw_bias, dw_bias;
  Shape x_physical, y_physical;
};

class ConvDepthwiseKernel : public Kernel {
 public:
  ConvDepthwiseKernel(const ir::Node& node, const ops::FusedConvDepthwiseAttrs& a)
      : pw_(*a.pointwise),
        dw_(*a.depthwise),
        pw_weights_(node.inputs[1]->constant),
        dw_weights_(node.inputs[kDwWeights]->constant),
        pw_bias_(node.inputs[2] != nullptr),
        dw_bias_(node.inputs.size() > kDwBias && node.inputs[kDwBias] != nullptr),
        channels_(node.inputs[1]->constant.dim(0)),
        in_channels_(node.inputs[1]->constant.dim(1)) {}

  Status run(KernelContext& ctx) override;
  // Packs both weights for input shape `x` (as the tensor holds it).
  Status pack(const Shape& x) {
    return catch_dnnl([&]() -> Status {
      FULCRUM_ASSIGN_OR_RETURN(Entry e, make_entry(x));
      pw_weights_.keep(e.pw_weights);
      dw_weights_.keep(e.dw_weights);
      return Status::ok();
    });
  }
  bool release_constant_input(size_t i) override {
    return (i == 1 && pw_weights_.release()) || (i == kDwWeights && dw_weights_.release());
  }
  size_t packed_bytes() const override { return pw_weights_.packed_bytes() + dw_weights_.packed_bytes(); }

 private:
  Result<Entry> make_entry(const Shape& x_physical) const;
  Status check_bias(const KernelContext& ctx, size_t i, bool present) const;

  const ops::FusedConvAttrs& pw_;
  const ops::FusedConvAttrs& dw_;
  PackedWeights pw_weights_, dw_weights_;
  bool pw_bias_, dw_bias_;
  int64_t channels_;     // of the pointwise output, which the depthwise conv reads
  int64_t in_channels_;  // of X
  ShapeCache<Entry> cache_;
  std::atomic<std::shared_ptr<const Entry>> last_;  // the last run's entry
};

Result<Entry> ConvDepthwiseKernel::make_entry(const Shape& x_physical) const {
  const Shape x = logical_shape(x_physical, pw_.src_layout, in_channels_);
  if (x.size() != 4 || physical_shape(x, pw_.src_layout) != x_physical)
    return invalid_argument("X {} does not hold {} channels in the {} layout", shape_to_string(x_physical),
                            in_channels_, ops::layout_name(pw_.src_layout));
  const Shape mid = {x[0], channels_, x[2], x[3]};
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::window_geometry(dw_, {x[2], x[3]}, {3, 3}));
  const Shape y = {x[0], channels_, g.out[0], g.out[1]};

  dnnl::post_ops post_ops;
  const auto dt = memory::data_type::f32;
  for (const ops::PostOp& op : pw_.epilogue.post_ops)
    if (!append_unary_post_op(op, post_ops)) return unimplemented("post-op {} has no oneDNN counterpart", op.op_type);
  post_ops.append_dw(dt, dw_bias_ ? dt : memory::data_type::undef, dt, 3, g.strides[0], g.pad_begin[0], 0, {1.f});
  for (const ops::PostOp& op : dw_.epilogue.post_ops)
    if (!append_unary_post_op(op, post_ops)) return unimplemented("post-op {} has no oneDNN counterpart", op.op_type);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);

  Entry e;
  e.x_user = activation_desc(x, pw_.src_layout);
  e.y_user = activation_desc(y, dw_.dst_layout);
  e.x_physical = x_physical;
  e.y_physical = physical_shape(y, dw_.dst_layout);
  e.pw_bias = plain_desc({channels_});
  const memory::desc weights_any({channels_, in_channels_, 1, 1}, dt, Tag::any);
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  const memory::desc mid_desc = activation_desc(mid, pw_.dst_layout);
  const memory::dims one = {1, 1}, zero = {0, 0};
  auto desc = pw_bias_ ? dnnl::convolution_forward::desc(kind, algo, e.x_user, weights_any, e.pw_bias, mid_desc, one,
                                                         zero, zero)
                       : dnnl::convolution_forward::desc(kind, algo, e.x_user, weights_any, mid_desc, one, zero, zero);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, dnnl_engine());
  if (pd.dst_desc() != e.y_user)
    return unimplemented("oneDNN writes the fused output as {} channels, {} layout, not as the graph holds it",
                         pd.dst_desc().dims()[1], ops::layout_name(dw_.dst_layout));
  e.prim = dnnl::convolution_forward(pd);
  const int dw_arg = DNNL_ARG_ATTR_POST_OP_DW;
  e.dw_bias = pd.query_md(dnnl::query::exec_arg_md, dw_arg | DNNL_ARG_BIAS);
  if (dw_bias_ && e.dw_bias != e.pw_bias) return unimplemented("oneDNN wants the depthwise bias in another layout");
  e.pw_weights = pw_weights_.in(plain_desc({channels_, in_channels_, 1, 1}), pd.weights_desc());
  e.dw_weights = dw_weights_.in(plain_desc({channels_, 1, 1, 3, 3}, Tag::goihw),
                                pd.query_md(dnnl::query::exec_arg_md, dw_arg | DNNL_ARG_WEIGHTS));
  return e;
}

Status ConvDepthwiseKernel::check_bias(const KernelContext& ctx, size_t i, bool present) const {
  if (!present) return Status::ok();
  const Tensor& b = ctx.input(i);
  if (b.dtype() != DType::kFloat32 || b.rank() != 1 || b.dim(0) != channels_)
    return invalid_argument("bias {} must be a 1-D float32 tensor of {} values, got {} {}", i, channels_,
                            dtype_name(b.dtype()), shape_to_string(b.shape()));
  return Status::ok();
}

Status ConvDepthwiseKernel::run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return invalid_argument("expected a float32 X, got {}", dtype_name(x.dtype()));
  FULCRUM_RETURN_IF_ERROR(check_bias(ctx, 2, pw_bias_));
  FULCRUM_RETURN_IF_ERROR(check_bias(ctx, kDwBias, dw_bias_));
  ThreadScope threads(thread_limit());
  std::shared_ptr<const Entry> entry = last_.load();
  if (!entry || entry->x_physical != x.shape()) {
    FULCRUM_ASSIGN_OR_RETURN(entry, cache_.get({x.shape()}, [&] { return make_entry(x.shape()); }));
    last_.store(entry);
  }
  return catch_dnnl([&] {
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, entry->y_physical);
    ExecArgs args = {{DNNL_ARG_SRC, wrap(x, entry->x_user)},
                     {DNNL_ARG_WEIGHTS, entry->pw_weights},
                     {DNNL_ARG_DST, wrap(y, entry->y_user)},
                     {DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, entry->dw_weights}};
    if (pw_bias_) args.add(DNNL_ARG_BIAS, wrap(ctx.input(2), entry->pw_bias));
    if (dw_bias_) args.add(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, wrap(ctx.input(kDwBias), entry->dw_bias));
    args.execute(entry->prim, dnnl_stream());
    dnnl_stream().wait();
    return Status::ok();
  });
}

bool float_constant(const ir::Node& node, size_t i, int64_t rank) {
  const ValueInfo v = value_info(node, i);
  return v.constant != nullptr && v.dtype == DType::kFloat32 && v.rank == rank;
}

KernelResult create_conv_depthwise(const ir::Node& node, const KernelConfig& config) {
  const auto& a = node.attrs_as<ops::FusedConvDepthwiseAttrs>();
  if (node.inputs.size() < kDwWeights + 1 || !float_constant(node, 1, 4) || !float_constant(node, kDwWeights, 4))
    return KernelResult(nullptr);
  for (size_t b : {size_t{2}, kDwBias})
    if (b < node.inputs.size() && node.inputs[b] != nullptr && value_info(node, b).dtype != DType::kFloat32)
      return KernelResult(nullptr);
  const ValueInfo x = value_info(node, 0);
  if (x.dtype != DType::kFloat32 || x.rank != 5) return KernelResult(nullptr);
  auto kernel = std::make_unique<ConvDepthwiseKernel>(node, a);
  Shape declared = x.dims;
  if (declared[0] < 0) declared[0] = 1;
  if (std::count(declared.begin(), declared.end(), -1) > 0) return KernelResult(std::move(kernel));
  ThreadScope threads(config.threads);
  // A fusion oneDNN does not take is left to the reference kernel (the pass asks only for
  // the kind oneDNN has).
  if (!kernel->pack(declared).is_ok()) return KernelResult(nullptr);
  return KernelResult(std::move(kernel));
}

}  // namespace

FULCRUM_CPU_KERNEL("fulcrum", FusedConvDepthwise, create_conv_depthwise);

}  // namespace fulcrum::backends::cpu
