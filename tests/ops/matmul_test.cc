#include <random>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

std::vector<float> random_values(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// y[b] = a[b % batches_a] * b[b % batches_b], row-major, accumulated in double.
std::vector<float> naive_matmul(const std::vector<float>& a, const std::vector<float>& b, int64_t batches,
                                int64_t batches_a, int64_t batches_b, int64_t m, int64_t k, int64_t n) {
  std::vector<float> y(static_cast<size_t>(batches * m * n));
  for (int64_t t = 0; t < batches; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += a[static_cast<size_t>(((t % batches_a) * m + i) * k + p)] *
                 b[static_cast<size_t>(((t % batches_b) * k + p) * n + j)];
        y[static_cast<size_t>((t * m + i) * n + j)] = static_cast<float>(acc);
      }
  return y;
}

TEST(MatMul, TwoByThreeTimesThreeByTwo) {
  auto r = run_op("MatMul",
                  {make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6}), make_tensor<float>({3, 2}, {7, 8, 9, 10, 11, 12})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {58.f, 64.f, 139.f, 154.f});
}

TEST(MatMul, OneDimensionalOperandsDropTheirAxis) {
  auto v = make_tensor<float>({2}, {1.f, 2.f});
  auto m = make_tensor<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  auto row = run_op("MatMul", {v, m});
  auto col = run_op("MatMul", {m, v});
  auto dot = run_op("MatMul", {v, v});
  ASSERT_TRUE(row.status.is_ok() && col.status.is_ok() && dot.status.is_ok());
  expect_near(row.outputs[0], {2}, {7.f, 10.f});
  expect_near(col.outputs[0], {2}, {5.f, 11.f});
  expect_near(dot.outputs[0], {}, {5.f});
}

TEST(MatMul, BroadcastsBatchAxes) {
  // A [2, 1, 2, 3] x B [3, 3, 2] -> [2, 3, 2, 2]: A's batch repeats over B's and vice versa.
  const auto a = random_values(2 * 2 * 3, 1);
  const auto b = random_values(3 * 3 * 2, 2);
  auto r = run_op("MatMul", {make_tensor<float>({2, 1, 2, 3}, a), make_tensor<float>({3, 3, 2}, b)});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  std::vector<float> expected;
  for (int64_t i = 0; i < 2; ++i) {
    const std::vector<float> ai(a.begin() + i * 6, a.begin() + (i + 1) * 6);
    const auto yi = naive_matmul(ai, b, 3, 1, 3, 2, 3, 2);
    expected.insert(expected.end(), yi.begin(), yi.end());
  }
  expect_near(r.outputs[0], {2, 3, 2, 2}, expected);
}

TEST(MatMul, LargeShapesMatchNaive) {
  // Exercises gemm's blocks (K > 128, N > 256), row remainders, threads, and the
  // many-batches path (12 batches).
  const int64_t m = 37, k = 300, n = 530;
  const auto a = random_values(m * k, 3);
  const auto b = random_values(k * n, 4);
  auto r = run_op("MatMul", {make_tensor<float>({m, k}, a), make_tensor<float>({k, n}, b)});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {m, n}, naive_matmul(a, b, 1, 1, 1, m, k, n), 1e-4f);

  const auto ab = random_values(12 * 9 * 70, 5);
  const auto bb = random_values(12 * 70 * 33, 6);
  auto batched = run_op("MatMul", {make_tensor<float>({12, 9, 70}, ab), make_tensor<float>({12, 70, 33}, bb)});
  ASSERT_TRUE(batched.status.is_ok()) << batched.status.to_string();
  expect_near(batched.outputs[0], {12, 9, 33}, naive_matmul(ab, bb, 12, 12, 12, 9, 70, 33), 1e-4f);
}

TEST(MatMul, IntegerTypes) {
  auto r = run_op("MatMul", {make_tensor<int64_t>({1, 2}, {3, -4}), make_tensor<int64_t>({2, 1}, {5, 6})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (Ints{-9}));
  auto i32 = run_op("MatMul", {make_tensor<int32_t>({2}, {1, 2}), make_tensor<int32_t>({2}, {3, 4})});
  ASSERT_TRUE(i32.status.is_ok()) << i32.status.to_string();
  EXPECT_EQ(values_of<int32_t>(i32.outputs[0]), (std::vector<int32_t>{11}));
}

TEST(MatMul, RejectsMismatchedInnerDimension) {
  auto r = run_op(
      "MatMul", {make_tensor<float>({2, 3}, std::vector<float>(6)), make_tensor<float>({2, 2}, std::vector<float>(4))});
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("[2, 3]"), std::string::npos) << r.status.message();
  auto batch = run_op("MatMul", {make_tensor<float>({2, 1, 1}, {1, 2}), make_tensor<float>({3, 1, 1}, {1, 2, 3})});
  ASSERT_FALSE(batch.status.is_ok());
  EXPECT_NE(batch.status.message().find("broadcast"), std::string::npos) << batch.status.message();
}

TEST(Gemm, TransposesAlphaBetaAndRowBias) {
  // A^T = [[1, 2], [3, 4]], B^T = [[1, 0], [1, 1]]: A^T B^T = [[3, 2], [7, 4]].
  auto r = run_op("Gemm",
                  {make_tensor<float>({2, 2}, {1, 3, 2, 4}), make_tensor<float>({2, 2}, {1, 1, 0, 1}),
                   make_tensor<float>({2}, {10, 20})},
                  {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 2.0f}, {"beta", 0.5f}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {6.f + 5.f, 4.f + 10.f, 14.f + 5.f, 8.f + 10.f});
}

TEST(Gemm, ColumnScalarAndNoBias) {
  auto a = make_tensor<float>({2, 1}, {1, 2});
  auto b = make_tensor<float>({1, 2}, {3, 4});
  auto column = run_op("Gemm", {a, b, make_tensor<float>({2, 1}, {100, 200})});
  auto scalar = run_op("Gemm", {a, b, make_tensor<float>({}, {1})});
  auto none = run_op("Gemm", {a, b});
  ASSERT_TRUE(column.status.is_ok() && scalar.status.is_ok() && none.status.is_ok());
  expect_near(column.outputs[0], {2, 2}, {103, 104, 206, 208});
  expect_near(scalar.outputs[0], {2, 2}, {4, 5, 7, 9});
  expect_near(none.outputs[0], {2, 2}, {3, 4, 6, 8});
}

TEST(Gemm, RejectsBadShapes) {
  auto rank = run_op("Gemm", {make_tensor<float>({2}, {1, 2}), make_tensor<float>({2, 1}, {1, 2})});
  EXPECT_NE(rank.status.message().find("2-D"), std::string::npos) << rank.status.message();
  auto inner = run_op(
      "Gemm", {make_tensor<float>({2, 3}, std::vector<float>(6)), make_tensor<float>({2, 3}, std::vector<float>(6))});
  EXPECT_NE(inner.status.message().find("transB=0"), std::string::npos) << inner.status.message();
  auto c = run_op("Gemm", {make_tensor<float>({2, 2}, std::vector<float>(4)),
                           make_tensor<float>({2, 2}, std::vector<float>(4)), make_tensor<float>({3}, {1, 2, 3})});
  EXPECT_NE(c.status.message().find("C ("), std::string::npos) << c.status.message();
}

TEST(MatMulInteger, PerRowAndPerColumnZeroPoints) {
  // A - [1, 2] per row = [[0, 1], [1, 2]]; B - [0, 1] per column = [[1, 0], [2, 1]].
  auto r = run_op("MatMulInteger",
                  {make_tensor<uint8_t>({2, 2}, {1, 2, 3, 4}), make_tensor<int8_t>({2, 2}, {1, 1, 2, 2}),
                   make_tensor<uint8_t>({2}, {1, 2}), make_tensor<int8_t>({2}, {0, 1})},
                  {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kInt32);
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{2, 1, 5, 2}));
}

TEST(MatMulInteger, RejectsBadZeroPoint) {
  auto r = run_op("MatMulInteger",
                  {make_tensor<uint8_t>({2, 2}, {1, 2, 3, 4}), make_tensor<uint8_t>({2, 2}, {1, 1, 2, 2}),
                   make_tensor<uint8_t>({3}, {1, 2, 3})},
                  {}, 1, 10);
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("a_zero_point"), std::string::npos) << r.status.message();
}

TEST(Einsum, MatrixProductTransposeAndTrace) {
  auto a = make_tensor<float>({2, 2}, {1, 2, 3, 4});
  auto mm = run_op("Einsum", {a, a}, {{"equation", std::string("ij,jk->ik")}}, 1, 12);
  auto tr = run_op("Einsum", {a}, {{"equation", std::string("ji")}}, 1, 12);  // implicit: sorted "ij"
  auto trace = run_op("Einsum", {a}, {{"equation", std::string("ii")}}, 1, 12);
  auto diag = run_op("Einsum", {a}, {{"equation", std::string("ii->i")}}, 1, 12);
  ASSERT_TRUE(mm.status.is_ok() && tr.status.is_ok() && trace.status.is_ok() && diag.status.is_ok());
  expect_near(mm.outputs[0], {2, 2}, {7, 10, 15, 22});
  expect_near(tr.outputs[0], {2, 2}, {1, 3, 2, 4});
  expect_near(trace.outputs[0], {}, {5});
  expect_near(diag.outputs[0], {2}, {1, 4});
}

TEST(Einsum, EllipsisBroadcastsAndOuterProduct) {
  // "...ij,...jk" with batch [2] against an unbatched right side.
  auto a = make_tensor<float>({2, 1, 2}, {1, 2, 3, 4});
  auto b = make_tensor<float>({2, 1}, {10, 1});
  auto r = run_op("Einsum", {a, b}, {{"equation", std::string("...ij,...jk->...ik")}}, 1, 12);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 1, 1}, {12, 34});
  auto outer = run_op("Einsum", {make_tensor<float>({2}, {1, 2}), make_tensor<float>({3}, {1, 10, 100})},
                      {{"equation", std::string("i,j")}}, 1, 12);
  ASSERT_TRUE(outer.status.is_ok()) << outer.status.to_string();
  expect_near(outer.outputs[0], {2, 3}, {1, 10, 100, 2, 20, 200});
}

TEST(Einsum, ThreeInputsAndIntegersUseTheDefinition) {
  auto v = make_tensor<float>({3}, {1, 2, 3});
  auto triple = run_op("Einsum", {v, v, v}, {{"equation", std::string("i,i,i->")}}, 1, 12);
  ASSERT_TRUE(triple.status.is_ok()) << triple.status.to_string();
  expect_near(triple.outputs[0], {}, {36});
  auto ints = run_op("Einsum", {make_tensor<int64_t>({2, 2}, {1, 2, 3, 4}), make_tensor<int64_t>({2}, {10, 1})},
                     {{"equation", std::string("ij,j->i")}}, 1, 12);
  ASSERT_TRUE(ints.status.is_ok()) << ints.status.to_string();
  EXPECT_EQ(values_of<int64_t>(ints.outputs[0]), (Ints{12, 34}));
}

TEST(Einsum, RejectsBadEquations) {
  auto a = make_tensor<float>({2, 2}, {1, 2, 3, 4});
  auto chars = run_op("Einsum", {a}, {{"equation", std::string("i1->i")}}, 1, 12);
  EXPECT_NE(chars.status.message().find("invalid character"), std::string::npos) << chars.status.message();
  auto rank = run_op("Einsum", {a}, {{"equation", std::string("ijk->i")}}, 1, 12);
  EXPECT_NE(rank.status.message().find("does not fit"), std::string::npos) << rank.status.message();
  auto count = run_op("Einsum", {a}, {{"equation", std::string("ij,jk->ik")}}, 1, 12);
  EXPECT_NE(count.status.message().find("input terms"), std::string::npos) << count.status.message();
  auto unknown = run_op("Einsum", {a}, {{"equation", std::string("ij->k")}}, 1, 12);
  EXPECT_NE(unknown.status.message().find("'k'"), std::string::npos) << unknown.status.message();
  auto sizes = run_op("Einsum", {a, make_tensor<float>({3}, {1, 2, 3})}, {{"equation", std::string("ij,j->i")}}, 1, 12);
  EXPECT_NE(sizes.status.message().find("label 'j'"), std::string::npos) << sizes.status.message();
}

}  // namespace
}  // namespace fulcrum::testing
