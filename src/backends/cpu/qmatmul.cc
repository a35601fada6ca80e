// fulcrum.QMatMul (ops/quantized_fused.h) on oneDNN's INT8 matmul: A [..., M, K] with its
// leading axes folded into rows (as PackedMatmulKernel in matmul.cc), B the int8 [K, N]
// constant packed once at build time into the primitive's layout, per-column output scales
// a_scale * w_scales[n]. An int8/uint8 A is read in place; a float32 A is quantized by one
// reorder (scale 1/a_scale). The bias is stored divided by the output scales, since oneDNN 2.x
// adds it to the accumulator before scaling. The epilogue: quant_epilogue.h.
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

struct QMatmulEntry {
  dnnl::matmul prim;
  memory::desc a_user, src;
  std::optional<dnnl::reorder> src_in;  // quantizes a float32 A
  memory weights;
  QuantEpilogue epilogue;
};

class QMatmulKernel : public Kernel {
 public:
  QMatmulKernel(const ops::QMatMulAttrs& attrs, Tensor weights, Tensor bias)
      : attrs_(attrs), q_(attrs.quant), weights_(weights), k_(weights.dim(0)), n_(weights.dim(1)) {
    ChannelScales cs = channel_scales(q_, n_, bias);
    channel_scales_ = std::move(cs.scales);
    bias_ = std::move(cs.bias);
  }

  Status pack(int64_t rows, DType a_dtype, const std::vector<QuantOperand>& operands) {
    return catch_dnnl([&]() -> Status {
      FULCRUM_ASSIGN_OR_RETURN(QMatmulEntry e, make_entry(rows, a_dtype, operands));
      weights_.keep(e.weights);
      return Status::ok();
    });
  }
  bool release_constant_input(size_t i) override { return i == 1 && weights_.release(); }
  size_t packed_bytes() const override { return weights_.packed_bytes() + bias_.nbytes(); }

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    if ((a.dtype() != DType::kFloat32 && a.dtype() != q_.in_dtype) || a.rank() < 1 || a.dim(a.rank() - 1) != k_)
      return invalid_argument("A ({} {}) does not fit B: expected float32 or {} [..., {}]", dtype_name(a.dtype()),
                              shape_to_string(a.shape()), dtype_name(q_.in_dtype), k_);
    const int64_t rows = a.numel() / k_;
    Shape y_shape(a.shape().begin(), a.shape().end() - 1);
    y_shape.push_back(n_);
    std::vector<QuantOperand> operands =
        quant_operands(attrs_.epilogue, ctx, [](const Tensor& t) { return t.shape(); });
    for (QuantOperand& o : operands) {
      FULCRUM_ASSIGN_OR_RETURN(o.shape, view_2d(o.shape, y_shape, rows));
    }
    std::vector<Shape> key = {{rows, static_cast<int64_t>(a.dtype())}};
    for (const QuantOperand& o : operands) key.insert(key.end(), {o.shape, {static_cast<int64_t>(o.dtype)}});
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get(key, [&] { return make_entry(rows, a.dtype(), operands); }));
    return catch_dnnl([&] { return execute(ctx, *entry, rows, y_shape); });
  }

  // An operand seen on the [rows, N] view of the output: the output's own shape is [rows, N],
  // a row [1, N].
  Result<Shape> view_2d(const Shape& s, const Shape& y, int64_t rows) const {
    if (s == y) return Shape{rows, n_};
    if (!s.empty() && s.back() == n_ && shape_numel(s) == n_) return Shape{1, n_};
    return invalid_argument("Add operand {} neither matches the output {} nor is a row of it", shape_to_string(s),
                            shape_to_string(y));
  }

 private:
  Result<QMatmulEntry> make_entry(int64_t rows, DType a_dtype, const std::vector<QuantOperand>& operands) const {
    QMatmulEntry e;
    const QuantDst dst{{rows, n_}, q_.out_dtype, Tag::ab, Tag::ab, Tag::ab};
    FULCRUM_ASSIGN_OR_RETURN(e.epilogue, plan_quant_epilogue(attrs_.epilogue, q_, dst, operands, channel_scales_));
    e.src = memory::desc({rows, k_}, dnnl_dtype(q_.in_dtype), Tag::ab);
    const memory::desc weights_any({k_, n_}, memory::data_type::s8, Tag::any);
    const memory::desc y({rows, n_}, dnnl_dtype(q_.out_dtype), Tag::ab);
    const memory::desc bias = plain_desc({1, n_});
    auto desc =
        bias_.defined() ? dnnl::matmul::desc(e.src, weights_any, bias, y) : dnnl::matmul::desc(e.src, weights_any, y);
    dnnl::matmul::primitive_desc pd(desc, e.epilogue.attr, dnnl_engine());
    e.prim = dnnl::matmul(pd);
    e.a_user = memory::desc({rows, k_}, dnnl_dtype(a_dtype), Tag::ab);
    if (a_dtype == DType::kFloat32) {
      dnnl::primitive_attr quantize;
      quantize.set_output_scales(0, {1.f / q_.in_scale});
      e.src_in = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.a_user, dnnl_engine(), e.src, quantize));
    }
    e.weights = weights_.in(memory::desc({k_, n_}, memory::data_type::s8, Tag::ab), pd.weights_desc());
    return e;
  }

  Status execute(KernelContext& ctx, const QMatmulEntry& e, int64_t rows, const Shape& y_shape) const {
    dnnl::stream& stream = dnnl_stream();
    memory src = wrap(ctx.input(0), e.a_user);
    if (e.src_in) {
      memory quantized(e.src, dnnl_engine());
      e.src_in->execute(stream, src, quantized);
      src = quantized;
    }
    Tensor& y = ctx.allocate_output_uninitialized(0, q_.out_dtype, y_shape);
    memory dst = wrap(y, memory::desc({rows, n_}, dnnl_dtype(q_.out_dtype), Tag::ab));
    ExecArgs args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, e.weights}, {DNNL_ARG_DST, dst}};
    if (bias_.defined()) args.add(DNNL_ARG_BIAS, wrap(bias_, plain_desc({1, n_})));
    prepare_epilogue(e.epilogue, ctx, dst, args);
    args.execute(e.prim, stream);
    stream.wait();
    return Status::ok();
  }

  const ops::QMatMulAttrs& attrs_;
  const ops::QuantParams& q_;
  PackedWeights weights_;  // int8 [K, N]
  int64_t k_, n_;
  Tensor bias_;                        // C / channel_scales_, or undefined
  std::vector<float> channel_scales_;  // a_scale * w_scales[n] (one value: a single scale)
  ShapeCache<QMatmulEntry> cache_;
};

KernelResult create_qmatmul(const ir::Node& node, const KernelConfig& config) {
  const auto& attrs = node.attrs_as<ops::QMatMulAttrs>();
  const ops::QuantParams& q = attrs.quant;
  const ValueInfo a = value_info(node, 0), b = value_info(node, 1), c = value_info(node, 2);
  if (a.dtype != DType::kFloat32 && a.dtype != q.in_dtype) return KernelResult(nullptr);
  if (!b.constant || b.dtype != DType::kInt8 || b.rank != 2 || b.constant->numel() == 0) return KernelResult(nullptr);
  const int64_t n = b.dims[1];
  if (q.w_scales.size() != 1 && static_cast<int64_t>(q.w_scales.size()) != n) return KernelResult(nullptr);
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != nullptr;
  if (has_bias && (!c.constant || c.dtype != DType::kFloat32 || c.dims != Shape{n})) return KernelResult(nullptr);
  if (!supports_quant_epilogue(attrs.epilogue, q, node)) return KernelResult(nullptr);
  auto kernel = std::make_unique<QMatmulKernel>(attrs, *b.constant, has_bias ? *c.constant : Tensor());
  if (a.rank < 1 || a.dims.back() != b.dims[0]) return KernelResult(std::move(kernel));
  int64_t rows = 1;  // declared, a symbolic axis as 1
  for (size_t d = 0; d + 1 < a.dims.size(); ++d) rows *= std::max<int64_t>(1, a.dims[d]);
  Shape y_hint(a.dims.begin(), a.dims.end() - 1);
  for (int64_t& d : y_hint) d = std::max<int64_t>(1, d);
  y_hint.push_back(n);
  std::vector<QuantOperand> operands;
  for (const ops::PostOp& op : attrs.epilogue.post_ops) {
    if (op.input < 0) continue;
    const ValueInfo o = value_info(node, static_cast<size_t>(op.input));
    Shape s = o.dims;
    for (int64_t& d : s) d = std::max<int64_t>(1, d);
    Result<Shape> view = kernel->view_2d(s, y_hint, rows);
    if (o.rank < 0 || !view.is_ok()) return KernelResult(std::move(kernel));  // packed on the first run
    operands.push_back({*view, o.dtype});
  }
  ThreadScope threads(config.threads);
  // A product oneDNN does not take is left to the reference.
  if (!kernel->pack(rows, a.dtype, operands).is_ok()) return KernelResult(nullptr);
  return KernelResult(std::move(kernel));
}

FULCRUM_CPU_KERNEL("fulcrum", QMatMul, create_qmatmul);

}  // namespace
}  // namespace fulcrum::backends::cpu
