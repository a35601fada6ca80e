// Gemm and MatMul on oneDNN's matmul. A constant 2-D B (the weights of a fully connected
// layer) is packed once, at build time, into oneDNN's preferred blocked layout, with Gemm's
// alpha folded in and beta * C as the bias; A's leading axes fold into the row count. Any
// other float32 MatMul runs as a plain (batched, broadcasting) matmul. fulcrum.FusedMatMul
// runs its epilogue as oneDNN post-ops (post_ops.h); a leading Add of a constant row vector
// joins the bias.
#include <algorithm>
#include <optional>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/cpu/post_ops.h"
#include "core/parallel.h"
#include "ops/fused.h"
#include "ops/matmul.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct MatmulEntry {
  dnnl::matmul prim;
  memory weights;  // packed weights (PackedMatmulKernel only)
  EpiloguePlan epilogue;
};

dnnl::matmul::primitive_desc matmul_pd(const memory::desc& a, const memory::desc& b, const memory::desc* bias,
                                       const memory::desc& y, const EpiloguePlan* epilogue = nullptr) {
  auto desc = bias ? dnnl::matmul::desc(a, b, *bias, y) : dnnl::matmul::desc(a, b, y);
  dnnl::primitive_attr attr;
  if (epilogue != nullptr) attr.set_post_ops(epilogue->ops);
  return dnnl::matmul::primitive_desc(desc, attr, dnnl_engine());
}

// The epilogue's operand shapes seen on the [rows, n] view of the output: an operand of
// the output's own shape is [rows, n], a row vector [1, n].
Result<std::vector<Shape>> operands_2d(const std::vector<Shape>& shapes, const Shape& y, int64_t rows, int64_t n) {
  std::vector<Shape> out;
  for (const Shape& s : shapes) {
    if (s == y)
      out.push_back({rows, n});
    else if (shape_numel(s) == n && !s.empty() && s.back() == n)
      out.push_back({1, n});
    else
      return invalid_argument("Add operand {} neither matches the output {} nor is a row of it", shape_to_string(s),
                              shape_to_string(y));
  }
  return out;
}

// Y = A' W + bias, A' being A with its leading axes folded into rows, W [K, N] constant.
class PackedMatmulKernel : public Kernel {
 public:
  PackedMatmulKernel(Tensor weights, Tag weights_tag, Tensor bias, bool gemm, std::optional<ops::Epilogue> epilogue)
      : weights_(weights),
        weights_tag_(weights_tag),
        bias_(std::move(bias)),
        gemm_(gemm),
        epilogue_(std::move(epilogue)) {
    k_ = weights_tag_ == Tag::ab ? weights.dim(0) : weights.dim(1);
    n_ = weights_tag_ == Tag::ab ? weights.dim(1) : weights.dim(0);
  }

  Status pack(int64_t rows, const std::vector<Shape>& operands) {
    return catch_dnnl([&]() -> Status {
      FULCRUM_ASSIGN_OR_RETURN(MatmulEntry e, make_entry(rows, operands));
      weights_.keep(e.weights);
      return Status::ok();
    });
  }

  bool release_constant_input(size_t i) override { return i == 1 && weights_.release(); }
  size_t packed_bytes() const override { return weights_.packed_bytes() + bias_.nbytes(); }

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    if (a.dtype() != DType::kFloat32 || a.rank() < 1 || (gemm_ && a.rank() != 2) || a.dim(a.rank() - 1) != k_)
      return invalid_argument("A ({} {}) does not fit B: expected float32 [{}..., {}]", dtype_name(a.dtype()),
                              shape_to_string(a.shape()), gemm_ ? "M" : "", k_);
    const int64_t rows = a.numel() / k_;
    Shape y_shape(a.shape().begin(), a.shape().end() - 1);
    y_shape.push_back(n_);
    std::vector<Shape> operands;
    if (epilogue_) {
      FULCRUM_ASSIGN_OR_RETURN(operands, operands_2d(operand_shapes(*epilogue_, ctx), y_shape, rows, n_));
    }
    std::vector<Shape> key = {{rows}};
    key.insert(key.end(), operands.begin(), operands.end());
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get(key, [&] { return make_entry(rows, operands); }));
    return catch_dnnl([&] {
      Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, y_shape);
      ExecArgs args = {{DNNL_ARG_SRC, wrap(a, plain_desc({rows, k_}))},
                       {DNNL_ARG_WEIGHTS, entry->weights},
                       {DNNL_ARG_DST, wrap(y, plain_desc({rows, n_}))}};
      if (bias_.defined()) args.add(DNNL_ARG_BIAS, wrap(bias_, plain_desc({1, n_})));
      add_operand_args(entry->epilogue, ctx, args);
      args.execute(entry->prim, dnnl_stream());
      dnnl_stream().wait();
      return Status::ok();
    });
  }

 private:
  Result<MatmulEntry> make_entry(int64_t rows, const std::vector<Shape>& operands) const {
    const memory::desc weights_any({k_, n_}, memory::data_type::f32, Tag::any);
    const memory::desc bias = plain_desc({1, n_});
    EpiloguePlan epilogue;
    if (epilogue_) {
      FULCRUM_ASSIGN_OR_RETURN(epilogue, plan_epilogue(*epilogue_, {rows, n_}, operands, Tag::ab));
    }
    auto pd = matmul_pd(plain_desc({rows, k_}), weights_any, bias_.defined() ? &bias : nullptr, plain_desc({rows, n_}),
                        &epilogue);
    return MatmulEntry{dnnl::matmul(pd), weights_.in(plain_desc({k_, n_}, weights_tag_), pd.weights_desc()),
                       std::move(epilogue)};
  }

  PackedWeights weights_;  // B as the model holds it (alpha folded in)
  Tag weights_tag_;        // ab: B is [K, N]; ba: B is [N, K] (Gemm's transB)
  Tensor bias_;            // [N] or undefined
  bool gemm_;
  std::optional<ops::Epilogue> epilogue_;  // the node's, less the Adds folded into bias_
  int64_t k_ = 0, n_ = 0;
  ShapeCache<MatmulEntry> cache_;
};

// numpy matmul of two run-time float32 tensors: 1-D operands are promoted and the batch
// axes broadcast (oneDNN broadcasts size-1 batch axes itself).
class MatmulKernel : public Kernel {
 public:
  explicit MatmulKernel(std::optional<ops::Epilogue> epilogue) : epilogue_(std::move(epilogue)) {}

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 || a.rank() < 1 || b.rank() < 1)
      return invalid_argument("expected float32 A and B of rank >= 1, got {} {} and {} {}", dtype_name(a.dtype()),
                              shape_to_string(a.shape()), dtype_name(b.dtype()), shape_to_string(b.shape()));
    Shape as = a.shape(), bs = b.shape();
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    const size_t rank = std::max(as.size(), bs.size());
    as.insert(as.begin(), rank - as.size(), 1);
    bs.insert(bs.begin(), rank - bs.size(), 1);
    if (as[rank - 1] != bs[rank - 2])
      return invalid_argument("A {} and B {} do not multiply", shape_to_string(a.shape()), shape_to_string(b.shape()));
    Shape ys(rank);
    for (size_t d = 0; d + 2 < rank; ++d) {
      if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1)
        return invalid_argument("batch axes of A {} and B {} do not broadcast", shape_to_string(a.shape()),
                                shape_to_string(b.shape()));
      ys[d] = as[d] == 1 ? bs[d] : as[d];
    }
    ys[rank - 2] = as[rank - 2];
    ys[rank - 1] = bs[rank - 1];
    Shape y_shape(ys.begin(), ys.end() - 2);
    if (a.rank() > 1) y_shape.push_back(ys[rank - 2]);
    if (b.rank() > 1) y_shape.push_back(ys[rank - 1]);
    std::vector<Shape> operands = epilogue_ ? operand_shapes(*epilogue_, ctx) : std::vector<Shape>{};
    std::vector<Shape> key = {as, bs};
    key.insert(key.end(), operands.begin(), operands.end());
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get(key, [&]() -> Result<MatmulEntry> {
      EpiloguePlan epilogue;
      if (epilogue_) {
        FULCRUM_ASSIGN_OR_RETURN(epilogue, plan_epilogue(*epilogue_, ys, operands, plain_tag(ys.size())));
      }
      auto pd = matmul_pd(plain_desc(as), plain_desc(bs), nullptr, plain_desc(ys), &epilogue);
      return MatmulEntry{dnnl::matmul(pd), {}, std::move(epilogue)};
    }));
    return catch_dnnl([&] {
      Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, y_shape);
      ExecArgs args = {{DNNL_ARG_SRC, wrap(a, plain_desc(as))},
                       {DNNL_ARG_WEIGHTS, wrap(b, plain_desc(bs))},
                       {DNNL_ARG_DST, wrap(y, plain_desc(ys))}};
      add_operand_args(entry->epilogue, ctx, args);
      args.execute(entry->prim, dnnl_stream());
      dnnl_stream().wait();
      return Status::ok();
    });
  }

 private:
  std::optional<ops::Epilogue> epilogue_;  // a FusedMatMul's (operands align with the output's trailing axes)
  ShapeCache<MatmulEntry> cache_;
};

// Rows of A the graph declares (its leading axes folded), a symbolic axis taken as 1.
int64_t declared_rows(const ValueInfo& a) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < a.dims.size(); ++d) rows *= std::max<int64_t>(1, a.dims[d]);
  return rows;
}

// The epilogue a packed product runs as post-ops: the node's, less its leading Adds of a
// constant row vector, which join the bias. Nullopt when an operand fits neither the output's
// shape nor a row (the reference then runs the node).
std::optional<ops::Epilogue> fold_row_adds(const ir::Node& node, const ops::Epilogue& e, int64_t n, Tensor& bias) {
  size_t i = 0;
  for (; i < e.post_ops.size(); ++i) {
    const ops::PostOp& op = e.post_ops[i];
    if (!op.domain.empty() || op.op_type != "Add" || op.input < 0) break;
    const ValueInfo c = value_info(node, static_cast<size_t>(op.input));
    if (!c.constant || c.dtype != DType::kFloat32 || c.constant->numel() != n || c.dims.empty() || c.dims.back() != n)
      break;
    if (!bias.defined()) bias = Tensor::zeros(DType::kFloat32, {n});
    float* dst = bias.mutable_data<float>();
    for (int64_t j = 0; j < n; ++j) dst[j] += c.constant->data<float>()[j];
  }
  ops::Epilogue rest;
  rest.post_ops.assign(e.post_ops.begin() + static_cast<std::ptrdiff_t>(i), e.post_ops.end());
  return rest;
}

// The [rows, n] view of each binary operand the graph declares, or nullopt when one is
// neither output-shaped nor a row.
std::optional<std::vector<Shape>> declared_operands(const ir::Node& node, const ops::Epilogue& e, int64_t rows,
                                                    int64_t n) {
  const ir::Value& y = *node.outputs[0];
  std::vector<Shape> out;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) continue;
    const ir::Value& v = *node.inputs[static_cast<size_t>(op.input)];
    const ValueInfo o = value_info(node, static_cast<size_t>(op.input));
    bool same = o.rank >= 0 && y.type.dims && y.type.dims->size() == static_cast<size_t>(o.rank);
    for (size_t d = 0; same && d < o.dims.size(); ++d) {
      const ir::Dim& yd = (*y.type.dims)[d];
      same = v.is_constant()
                 ? yd.is_fixed() && yd.value == o.dims[d]
                 : (yd.is_fixed() ? yd.value == o.dims[d] : !yd.param.empty() && (*v.type.dims)[d].param == yd.param);
    }
    const bool row = o.rank >= 1 && o.dims.back() == n && shape_numel(o.dims) == n;
    if (!same && !row) return std::nullopt;
    out.push_back(same ? Shape{rows, n} : Shape{1, n});
  }
  return out;
}

KernelResult packed(const ir::Node& node, Tensor weights, Tag tag, Tensor bias, bool gemm, int64_t rows,
                    const ops::Epilogue* epilogue, const KernelConfig& config) {
  const int64_t n = tag == Tag::ab ? weights.dim(1) : weights.dim(0);
  std::optional<ops::Epilogue> rest;
  std::vector<Shape> operands;
  if (epilogue != nullptr) {
    if (!supports_epilogue(*epilogue, node)) return KernelResult(nullptr);
    rest = fold_row_adds(node, *epilogue, n, bias);
    auto declared = declared_operands(node, *rest, rows, n);
    if (!declared) return KernelResult(nullptr);
    operands = std::move(*declared);
  }
  auto kernel = std::make_unique<PackedMatmulKernel>(std::move(weights), tag, std::move(bias), gemm, std::move(rest));
  ThreadScope threads(config.threads);
  // A product oneDNN does not take is left to the next backend.
  if (!kernel->pack(rows, operands).is_ok()) return KernelResult(nullptr);
  return KernelResult(std::move(kernel));
}

// beta * C as an [N] bias, when C is a constant that broadcasts along the rows.
Result<Tensor> gemm_bias(const ir::Node& node, float beta, int64_t n) {
  const ValueInfo c = value_info(node, 2);
  if (node.inputs.size() < 3 || node.inputs[2] == nullptr) return Tensor();
  if (!c.constant || c.dtype != DType::kFloat32) return invalid_argument("unsupported C");
  const int64_t count = c.constant->numel();
  const bool row = (c.rank == 1 && count == n) || (c.rank == 2 && c.dims[0] == 1 && c.dims[1] == n);
  if (count != 1 && !row) return invalid_argument("unsupported C");
  Tensor bias = empty_float({n});
  const float* src = c.constant->data<float>();
  float* dst = bias.mutable_data<float>();
  for (int64_t j = 0; j < n; ++j) dst[j] = beta * src[count == 1 ? 0 : j];
  return bias;
}

KernelResult make_gemm(const ir::Node& node, const ops::GemmAttrs& attrs, const ops::Epilogue* epilogue,
                       const KernelConfig& config) {
  const ValueInfo a = value_info(node, 0), b = value_info(node, 1);
  if (attrs.trans_a || a.dtype != DType::kFloat32 || (a.rank >= 0 && a.rank != 2)) return KernelResult(nullptr);
  if (!b.constant || b.dtype != DType::kFloat32 || b.rank != 2 || b.constant->numel() == 0)
    return KernelResult(nullptr);
  const int64_t n = attrs.trans_b ? b.dims[0] : b.dims[1];
  Result<Tensor> bias = gemm_bias(node, attrs.beta, n);
  if (!bias.is_ok()) return KernelResult(nullptr);  // a C that is not a row vector: the reference takes it
  Tensor weights = *b.constant;
  if (attrs.alpha != 1.0f) {
    weights = weights.clone();
    float* w = weights.mutable_data<float>();
    for (int64_t i = 0; i < weights.numel(); ++i) w[i] *= attrs.alpha;
  }
  return packed(node, std::move(weights), attrs.trans_b ? Tag::ba : Tag::ab, std::move(bias).value(), true,
                a.rank == 2 ? std::max<int64_t>(1, a.dims[0]) : 1, epilogue, config);
}

KernelResult make_matmul(const ir::Node& node, const ops::Epilogue* epilogue, const KernelConfig& config) {
  const ValueInfo a = value_info(node, 0), b = value_info(node, 1);
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32) return KernelResult(nullptr);
  if (b.constant && b.rank == 2 && b.constant->numel() > 0)
    return packed(node, *b.constant, Tag::ab, Tensor(), false, declared_rows(a), epilogue, config);
  if (epilogue == nullptr) return KernelResult(std::make_unique<MatmulKernel>(std::nullopt));
  // Post-op operands align with the output's trailing axes only when no operand is 1-D.
  if (a.rank < 2 || b.rank < 2 || !supports_epilogue(*epilogue, node)) return KernelResult(nullptr);
  return KernelResult(std::make_unique<MatmulKernel>(*epilogue));
}

}  // namespace

KernelResult create_gemm(const ir::Node& node, const KernelConfig& config) {
  return make_gemm(node, node.attrs_as<ops::GemmAttrs>(), nullptr, config);
}

KernelResult create_matmul(const ir::Node& node, const KernelConfig& config) {
  return make_matmul(node, nullptr, config);
}

KernelResult create_fused_matmul(const ir::Node& node, const KernelConfig& config) {
  const auto& attrs = node.attrs_as<ops::FusedMatMulAttrs>();
  return attrs.gemm ? make_gemm(node, attrs, &attrs.epilogue, config) : make_matmul(node, &attrs.epilogue, config);
}

FULCRUM_CPU_KERNEL("", Gemm, create_gemm);
FULCRUM_CPU_KERNEL("", MatMul, create_matmul);
FULCRUM_CPU_KERNEL("fulcrum", FusedMatMul, create_fused_matmul);

}  // namespace fulcrum::backends::cpu
