// Gemm and MatMul on oneDNN's matmul. A constant 2-D B (the weights of a fully connected
// layer) is packed once, at build time, into oneDNN's preferred blocked layout, with Gemm's
// alpha folded in and beta * C as the bias; A's leading axes fold into the row count. Any
// other float32 MatMul runs as a plain (batched, broadcasting) matmul.
#include <algorithm>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "core/parallel.h"
#include "ops/matmul.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct MatmulEntry {
  dnnl::matmul prim;
  memory weights;  // packed weights (PackedMatmulKernel only)
};

dnnl::matmul::primitive_desc matmul_pd(const memory::desc& a, const memory::desc& b, const memory::desc* bias,
                                       const memory::desc& y) {
  auto desc = bias ? dnnl::matmul::desc(a, b, *bias, y) : dnnl::matmul::desc(a, b, y);
  return dnnl::matmul::primitive_desc(desc, dnnl_engine());
}

// Y = A' W + bias, A' being A with its leading axes folded into rows, W [K, N] constant.
class PackedMatmulKernel : public Kernel {
 public:
  PackedMatmulKernel(Tensor weights, Tag weights_tag, Tensor bias, bool gemm)
      : weights_(std::move(weights)), weights_tag_(weights_tag), bias_(std::move(bias)), gemm_(gemm) {
    k_ = weights_tag_ == Tag::ab ? weights_.dim(0) : weights_.dim(1);
    n_ = weights_tag_ == Tag::ab ? weights_.dim(1) : weights_.dim(0);
  }

  Status pack(int64_t rows) {
    return catch_dnnl([&]() -> Status {
      FULCRUM_ASSIGN_OR_RETURN(MatmulEntry e, make_entry(rows));
      packed_ = e.weights;
      return Status::ok();
    });
  }

  Status run(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    if (a.dtype() != DType::kFloat32 || a.rank() < 1 || (gemm_ && a.rank() != 2) || a.dim(a.rank() - 1) != k_)
      return invalid_argument("A ({} {}) does not fit B: expected float32 [{}..., {}]", dtype_name(a.dtype()),
                              shape_to_string(a.shape()), gemm_ ? "M" : "", k_);
    const int64_t rows = a.numel() / k_;
    Shape y_shape(a.shape().begin(), a.shape().end() - 1);
    y_shape.push_back(n_);
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get({{rows}}, [&] { return make_entry(rows); }));
    return catch_dnnl([&] {
      Tensor y = empty_float(y_shape);
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrap(a, plain_desc({rows, k_}))},
                                              {DNNL_ARG_WEIGHTS, entry->weights},
                                              {DNNL_ARG_DST, wrap(y, plain_desc({rows, n_}))}};
      if (bias_.defined()) args[DNNL_ARG_BIAS] = wrap(bias_, plain_desc({1, n_}));
      entry->prim.execute(dnnl_stream(), args);
      dnnl_stream().wait();
      ctx.set_output(0, std::move(y));
      return Status::ok();
    });
  }

 private:
  Result<MatmulEntry> make_entry(int64_t rows) const {
    const memory::desc weights_any({k_, n_}, memory::data_type::f32, Tag::any);
    const memory::desc bias = plain_desc({1, n_});
    auto pd = matmul_pd(plain_desc({rows, k_}), weights_any, bias_.defined() ? &bias : nullptr, plain_desc({rows, n_}));
    MatmulEntry e{dnnl::matmul(pd), packed_};
    if (!packed_ || packed_.get_desc() != pd.weights_desc())
      e.weights = reorder_to(wrap(weights_, plain_desc({k_, n_}, weights_tag_)), pd.weights_desc());
    return e;
  }

  Tensor weights_;   // B as the model holds it (alpha folded in)
  Tag weights_tag_;  // ab: B is [K, N]; ba: B is [N, K] (Gemm's transB)
  Tensor bias_;      // [N] or undefined
  bool gemm_;
  int64_t k_ = 0, n_ = 0;
  memory packed_;
  ShapeCache<MatmulEntry> cache_;
};

// numpy matmul of two run-time float32 tensors: 1-D operands are promoted and the batch
// axes broadcast (oneDNN broadcasts size-1 batch axes itself).
class MatmulKernel : public Kernel {
 public:
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
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get({as, bs}, [&]() -> Result<MatmulEntry> {
      return MatmulEntry{dnnl::matmul(matmul_pd(plain_desc(as), plain_desc(bs), nullptr, plain_desc(ys))), {}};
    }));
    return catch_dnnl([&] {
      Tensor y = empty_float(y_shape);
      entry->prim.execute(dnnl_stream(), {{DNNL_ARG_SRC, wrap(a, plain_desc(as))},
                                          {DNNL_ARG_WEIGHTS, wrap(b, plain_desc(bs))},
                                          {DNNL_ARG_DST, wrap(y, plain_desc(ys))}});
      dnnl_stream().wait();
      ctx.set_output(0, std::move(y));
      return Status::ok();
    });
  }

 private:
  ShapeCache<MatmulEntry> cache_;
};

// Rows of A the graph declares (its leading axes folded), a symbolic axis taken as 1.
int64_t declared_rows(const ValueInfo& a) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < a.dims.size(); ++d) rows *= std::max<int64_t>(1, a.dims[d]);
  return rows;
}

KernelResult packed(Tensor weights, Tag tag, Tensor bias, bool gemm, int64_t rows, const KernelConfig& config) {
  auto kernel = std::make_unique<PackedMatmulKernel>(std::move(weights), tag, std::move(bias), gemm);
  ThreadScope threads(config.threads);
  // A product oneDNN does not take is left to the next backend.
  if (!kernel->pack(rows).is_ok()) return KernelResult(nullptr);
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

}  // namespace

KernelResult create_gemm(const ir::Node& node, const KernelConfig& config) {
  const auto& attrs = node.attrs_as<ops::GemmAttrs>();
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
  return packed(std::move(weights), attrs.trans_b ? Tag::ba : Tag::ab, std::move(bias).value(), true,
                a.rank == 2 ? std::max<int64_t>(1, a.dims[0]) : 1, config);
}

KernelResult create_matmul(const ir::Node& node, const KernelConfig& config) {
  const ValueInfo a = value_info(node, 0), b = value_info(node, 1);
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32) return KernelResult(nullptr);
  if (b.constant && b.rank == 2 && b.constant->numel() > 0)
    return packed(*b.constant, Tag::ab, Tensor(), false, declared_rows(a), config);
  return KernelResult(std::make_unique<MatmulKernel>());
}

FULCRUM_CPU_KERNEL("", Gemm, create_gemm);
FULCRUM_CPU_KERNEL("", MatMul, create_matmul);

}  // namespace fulcrum::backends::cpu
