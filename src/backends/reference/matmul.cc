// Reference kernels for Gemm, MatMul and MatMulInteger, all on the matrix product of gemm.h.
#include <type_traits>
#include <vector>

#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/matmul.h"

namespace fulcrum::backends::reference {
namespace {

// The dtypes gemm.h is instantiated for.
template <class F>
Status visit_gemm_types(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    case DType::kInt32: return f(TypeTag<int32_t>{});
    case DType::kInt64: return f(TypeTag<int64_t>{});
    case DType::kUInt32: return f(TypeTag<uint32_t>{});
    case DType::kUInt64: return f(TypeTag<uint64_t>{});
    default: return unsupported_dtype(dtype);
  }
}

// numpy matmul: the trailing two axes multiply, the leading ones broadcast; a 1-D A is a
// row vector and a 1-D B a column vector whose axis the result then drops.
struct MatMulShapes {
  Shape batch, batch_a, batch_b;
  int64_t m = 0, k = 0, n = 0;
  Shape y;
};

Result<MatMulShapes> matmul_shapes(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty())
    return invalid_argument("inputs must have rank >= 1, got A {} and B {}", shape_to_string(a), shape_to_string(b));
  MatMulShapes s;
  s.batch_a = a.size() > 2 ? Shape(a.begin(), a.end() - 2) : Shape{};
  s.batch_b = b.size() > 2 ? Shape(b.begin(), b.end() - 2) : Shape{};
  s.m = a.size() == 1 ? 1 : a[a.size() - 2];
  s.k = a.back();
  const int64_t kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  s.n = b.size() == 1 ? 1 : b.back();
  if (kb != s.k)
    return invalid_argument("A {} has {} columns but B {} has {} rows", shape_to_string(a), s.k, shape_to_string(b),
                            kb);
  FULCRUM_ASSIGN_OR_RETURN(s.batch, ops::broadcast_shapes({s.batch_a, s.batch_b}));
  s.y = s.batch;
  if (a.size() > 1) s.y.push_back(s.m);
  if (b.size() > 1) s.y.push_back(s.n);
  return s;
}

template <class T>
void batched_matmul(const MatMulShapes& s, const T* a, const T* b, T* y) {
  const int64_t batches = shape_numel(s.batch);
  if (shape_numel(s.batch_b) == 1) {
    // One B for every batch (a weight matrix): the batches of A are just more rows.
    gemm<T>(false, false, batches * s.m, s.n, s.k, a, s.k, b, s.n, y, s.n);
    return;
  }
  std::vector<int64_t> offsets;  // (A matrix, B matrix) per output matrix
  for_each_broadcast(s.batch, {s.batch_a, s.batch_b}, [&](int64_t, const int64_t* off) {
    offsets.push_back(off[0]);
    offsets.push_back(off[1]);
  });
  auto one = [&](int64_t i, bool threaded) {
    const T* ai = a + offsets[static_cast<size_t>(2 * i)] * s.m * s.k;
    const T* bi = b + offsets[static_cast<size_t>(2 * i + 1)] * s.k * s.n;
    T* yi = y + i * s.m * s.n;
    if (threaded)
      gemm<T>(false, false, s.m, s.n, s.k, ai, s.k, bi, s.n, yi, s.n);
    else
      gemm_serial<T>(false, false, s.m, s.n, s.k, ai, s.k, bi, s.n, yi, s.n);
  };
  // Many products (attention heads): one thread per group of them; few: split each one.
  if (batches >= 8) {
    parallel_for(batches, batches * s.m * s.n * s.k, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) one(i, false);
    });
  } else {
    for (int64_t i = 0; i < batches; ++i) one(i, true);
  }
}

Status matmul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype())
    return invalid_argument("inputs have different dtypes ({} and {})", dtype_name(a.dtype()), dtype_name(b.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(MatMulShapes s, matmul_shapes(a.shape(), b.shape()));
  return visit_gemm_types(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, a.dtype(), s.y);
    batched_matmul<T>(s, a.data<T>(), b.data<T>(), y.mutable_data<T>());
    return Status::ok();
  });
}

// Y = alpha * Y + beta * C, with C broadcast to Y's [M, N] (it may be [N], [M, 1], scalar...).
template <class T>
void gemm_epilogue(T* y, int64_t m, int64_t n, double alpha, double beta, const Tensor* c) {
  const std::vector<int64_t> cs = c ? ops::broadcast_strides(c->shape(), {m, n}) : std::vector<int64_t>{0, 0};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if constexpr (std::is_integral_v<T>) {
        // Plain Y + C stays exact for 64-bit integers, which double would round.
        if (alpha == 1 && beta == 1) {
          if (c) y[i * n + j] += c->data<T>()[i * cs[0] + j * cs[1]];
          continue;
        }
      }
      double v = alpha * static_cast<double>(y[i * n + j]);
      if (c) v += beta * static_cast<double>(c->data<T>()[i * cs[0] + j * cs[1]]);
      y[i * n + j] = static_cast<T>(v);
    }
}

Status gemm_op(KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::GemmAttrs>();
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.rank() != 2 || b.rank() != 2)
    return invalid_argument("A and B must be 2-D, got A {} and B {}", shape_to_string(a.shape()),
                            shape_to_string(b.shape()));
  if (a.dtype() != b.dtype())
    return invalid_argument("inputs have different dtypes ({} and {})", dtype_name(a.dtype()), dtype_name(b.dtype()));
  const int64_t m = attrs.trans_a ? a.dim(1) : a.dim(0);
  const int64_t k = attrs.trans_a ? a.dim(0) : a.dim(1);
  const int64_t kb = attrs.trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = attrs.trans_b ? b.dim(0) : b.dim(1);
  if (k != kb)
    return invalid_argument("op(A) is {}x{} but op(B) is {}x{} (transA={}, transB={})", m, k, kb, n, int(attrs.trans_a),
                            int(attrs.trans_b));
  const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (c) {
    auto bc = ops::broadcast_shapes({c->shape(), {m, n}});
    if (c->rank() > 2 || !bc.is_ok() || *bc != Shape{m, n} || c->dtype() != a.dtype())
      return invalid_argument("C ({} {}) must broadcast to the {} result [{}, {}]", dtype_name(c->dtype()),
                              shape_to_string(c->shape()), dtype_name(a.dtype()), m, n);
  }
  return visit_gemm_types(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = ctx.allocate_output(0, a.dtype(), {m, n}).template mutable_data<T>();
    gemm<T>(attrs.trans_a, attrs.trans_b, m, n, k, a.data<T>(), a.dim(1), b.data<T>(), b.dim(1), y, n);
    if (c || attrs.alpha != 1.0f) gemm_epilogue<T>(y, m, n, attrs.alpha, attrs.beta, c);
    return Status::ok();
  });
}

// x - zero_point as int32, zero_point broadcast to x's shape.
std::vector<int32_t> widen_minus(const Tensor& x, const Tensor* zp, const Shape& zp_shape) {
  std::vector<int32_t> out(static_cast<size_t>(x.numel()));
  const std::vector<int64_t> zps = zp ? to_int64_vector(*zp) : std::vector<int64_t>{0};
  const Shape zs = zp ? zp_shape : Shape{};
  Status s = visit_int(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    for_each_broadcast(x.shape(), {x.shape(), zs}, [&](int64_t i, const int64_t* off) {
      out[static_cast<size_t>(i)] =
          static_cast<int32_t>(static_cast<int64_t>(in[off[0]]) - zps[static_cast<size_t>(off[1])]);
    });
    return Status::ok();
  });
  (void)s;  // callers pass 8-bit tensors only
  return out;
}

// A zero point's shape as it broadcasts against its operand: a 1-D zero point of A holds
// one value per row (so it becomes [M, 1]); anything else broadcasts numpy-style.
Result<Shape> zero_point_shape(const Tensor& x, const Tensor& zp, bool per_row, const char* name) {
  if (zp.dtype() != x.dtype())
    return invalid_argument("{} has dtype {} but its input has {}", name, dtype_name(zp.dtype()),
                            dtype_name(x.dtype()));
  Shape shape = zp.shape();
  if (per_row && zp.rank() == 1 && zp.numel() > 1 && x.rank() >= 2) shape = {zp.dim(0), 1};
  auto b = ops::broadcast_shapes({x.shape(), shape});
  if (!b.is_ok() || *b != x.shape())
    return invalid_argument("{} {} does not broadcast to its input's shape {}", name, shape_to_string(zp.shape()),
                            shape_to_string(x.shape()));
  return shape;
}

Status matmul_integer(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  for (const Tensor* t : {&a, &b})
    if (t->dtype() != DType::kInt8 && t->dtype() != DType::kUInt8)
      return unimplemented("MatMulInteger supports int8/uint8 inputs, got A {} and B {}", dtype_name(a.dtype()),
                           dtype_name(b.dtype()));
  FULCRUM_ASSIGN_OR_RETURN(MatMulShapes s, matmul_shapes(a.shape(), b.shape()));
  const Tensor* a_zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* b_zp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  Shape a_zs, b_zs;
  if (a_zp) {
    FULCRUM_ASSIGN_OR_RETURN(a_zs, zero_point_shape(a, *a_zp, true, "a_zero_point"));
  }
  if (b_zp) {
    FULCRUM_ASSIGN_OR_RETURN(b_zs, zero_point_shape(b, *b_zp, false, "b_zero_point"));
  }
  const std::vector<int32_t> a32 = widen_minus(a, a_zp, a_zs);
  const std::vector<int32_t> b32 = widen_minus(b, b_zp, b_zs);
  Tensor& y = ctx.allocate_output(0, DType::kInt32, s.y);
  batched_matmul<int32_t>(s, a32.data(), b32.data(), y.mutable_data<int32_t>());
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(MatMul, matmul);
FULCRUM_REFERENCE_KERNEL(Gemm, gemm_op);
FULCRUM_REFERENCE_KERNEL(MatMulInteger, matmul_integer);

}  // namespace
}  // namespace fulcrum::backends::reference
