#include <cmath>
#include <limits>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;

// [[1, 2, 3], [4, 5, 6]]
Tensor two_by_three() { return make_tensor<float>({2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}); }

Tensor axes(const std::vector<int64_t>& v) { return make_tensor<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Reduce, SumAxesInputKeepdims) {
  auto r = run_op("ReduceSum", {two_by_three(), axes({1})}, {}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 1}, {6.f, 15.f});
}

TEST(Reduce, SumAxesAttributeBeforeOpset13) {
  auto r = run_op("ReduceSum", {two_by_three()}, {{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3}, {5.f, 7.f, 9.f});
}

TEST(Reduce, SumWithoutAxesReducesEverything) {
  auto r = run_op("ReduceSum", {two_by_three()}, {{"keepdims", int64_t{0}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {}, {21.f});
}

TEST(Reduce, SumEmptyAxesWithNoopIsIdentity) {
  auto r = run_op("ReduceSum", {two_by_three(), axes({})}, {{"noop_with_empty_axes", int64_t{1}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
}

TEST(Reduce, SumInt64AcrossNonAdjacentAxes) {
  // x[i][j][k] = 100 i + 10 j + k over [2, 2, 2]; reducing axes 0 and 2 leaves j.
  Tensor x = make_tensor<int64_t>({2, 2, 2}, {0, 1, 10, 11, 100, 101, 110, 111});
  auto r = run_op("ReduceSum", {x, axes({0, -1})}, {{"keepdims", int64_t{1}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{202, 242}));
}

TEST(Reduce, MaxAxesInputFromOpset18) {
  auto r = run_op("ReduceMax", {two_by_three(), axes({0})}, {{"keepdims", int64_t{0}}}, 1, 18);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3}, {4.f, 5.f, 6.f});
}

TEST(Reduce, EmptyReductionGivesIdentityElements) {
  Tensor x = Tensor::zeros(DType::kFloat32, {0, 2});
  Attributes a{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}};
  auto sum = run_op("ReduceSum", {x, axes({0})}, {{"keepdims", int64_t{0}}}, 1, 13);
  auto prod = run_op("ReduceProd", {x}, a, 1, 13);
  ASSERT_TRUE(sum.status.is_ok() && prod.status.is_ok()) << sum.status.to_string();
  expect_near(sum.outputs[0], {2}, {0.f, 0.f});
  expect_near(prod.outputs[0], {2}, {1.f, 1.f});
}

TEST(Reduce, MeanOverLastAxisOfLayerNormShape) {
  // BERT's LayerNorm: ReduceMean over the last axis of [1, 128, 768]; row r holds r + k / 768.
  const int64_t rows = 128, cols = 768;
  std::vector<float> v(static_cast<size_t>(rows * cols));
  std::vector<float> expected(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < cols; ++k) v[static_cast<size_t>(r * cols + k)] = static_cast<float>(r) + k / 768.f;
    expected[static_cast<size_t>(r)] = static_cast<float>(r) + (767.f / 2.f) / 768.f;
  }
  auto r = run_op("ReduceMean", {make_tensor<float>({1, rows, cols}, v)}, {{"axes", std::vector<int64_t>{-1}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, rows, 1}, expected);
}

TEST(Reduce, MaxMinProdOnInts) {
  Tensor x = make_tensor<int32_t>({2, 3}, {3, -7, 2, 4, 1, -5});
  Attributes a{{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}};
  auto mx = run_op("ReduceMax", {x}, a, 1, 13);
  auto mn = run_op("ReduceMin", {x}, a, 1, 13);
  auto pr = run_op("ReduceProd", {x}, a, 1, 13);
  ASSERT_TRUE(mx.status.is_ok() && mn.status.is_ok() && pr.status.is_ok()) << pr.status.to_string();
  EXPECT_EQ(values_of<int32_t>(mx.outputs[0]), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(values_of<int32_t>(mn.outputs[0]), (std::vector<int32_t>{-7, -5}));
  EXPECT_EQ(values_of<int32_t>(pr.outputs[0]), (std::vector<int32_t>{-42, -20}));
}

TEST(Reduce, NormsAndLogs) {
  Tensor x = make_tensor<float>({2, 2}, {3.f, -4.f, 1.f, 2.f});
  Attributes a{{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}};
  auto l1 = run_op("ReduceL1", {x}, a, 1, 13);
  auto l2 = run_op("ReduceL2", {x}, a, 1, 13);
  auto sq = run_op("ReduceSumSquare", {x}, a, 1, 13);
  auto ls = run_op("ReduceLogSum", {make_tensor<float>({2, 2}, {1.f, 2.f, 3.f, 4.f})}, a, 1, 13);
  ASSERT_TRUE(l1.status.is_ok() && l2.status.is_ok() && sq.status.is_ok() && ls.status.is_ok());
  expect_near(l1.outputs[0], {2}, {7.f, 3.f});
  expect_near(l2.outputs[0], {2}, {5.f, std::sqrt(5.f)});
  expect_near(sq.outputs[0], {2}, {25.f, 5.f});
  expect_near(ls.outputs[0], {2}, {std::log(3.f), std::log(7.f)});
}

TEST(Reduce, LogSumExpDoesNotOverflow) {
  auto r = run_op("ReduceLogSumExp", {make_tensor<float>({2}, {1000.f, 1000.f})}, {{"keepdims", int64_t{0}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {}, {1000.f + std::log(2.f)});
}

TEST(Reduce, MaxPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto r = run_op("ReduceMax", {make_tensor<float>({3}, {1.f, nan, 2.f})}, {}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_TRUE(std::isnan(r.outputs[0].data<float>()[0]));
}

TEST(Reduce, RejectsAxisOutOfRange) {
  auto r = run_op("ReduceMean", {two_by_three()}, {{"axes", std::vector<int64_t>{2}}}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("axes"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("out of range"), std::string::npos) << r.status.message();
}

TEST(Reduce, RejectsRepeatedAxis) {
  auto r = run_op("ReduceSum", {two_by_three(), axes({1, -1})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("more than once"), std::string::npos) << r.status.message();
}

TEST(ArgReduce, ArgMaxFirstAndLastIndexOfTies) {
  Tensor x = make_tensor<float>({2, 3}, {5.f, 1.f, 5.f, 0.f, 9.f, 2.f});
  auto first = run_op("ArgMax", {x}, {{"axis", int64_t{1}}}, 1, 13);
  auto last = run_op("ArgMax", {x}, {{"axis", int64_t{1}}, {"select_last_index", int64_t{1}}}, 1, 13);
  ASSERT_TRUE(first.status.is_ok() && last.status.is_ok()) << first.status.to_string();
  EXPECT_EQ(first.outputs[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<int64_t>(first.outputs[0]), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values_of<int64_t>(last.outputs[0]), (std::vector<int64_t>{2, 1}));
}

TEST(ArgReduce, ArgMinWithoutKeepdims) {
  Tensor x = make_tensor<int32_t>({2, 3}, {5, 1, 5, 0, 9, -2});
  auto r = run_op("ArgMin", {x}, {{"axis", int64_t{0}}, {"keepdims", int64_t{0}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{1, 0, 1}));
}

TEST(ArgReduce, RejectsBadAxis) {
  auto r = run_op("ArgMax", {two_by_three()}, {{"axis", int64_t{-3}}}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("axis -3"), std::string::npos) << r.status.message();
}

TEST(TopK, LargestSortedWithStableTies) {
  Tensor x = make_tensor<float>({2, 4}, {1.f, 3.f, 3.f, 2.f, 4.f, 4.f, 4.f, 0.f});
  auto r = run_op("TopK", {x, make_tensor<int64_t>({1}, {3})}, {}, 2, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {3.f, 3.f, 2.f, 4.f, 4.f, 4.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 2, 3, 0, 1, 2}));
}

TEST(TopK, SmallestAlongAxisZero) {
  Tensor x = make_tensor<float>({3, 2}, {5.f, 1.f, 2.f, 1.f, 7.f, 0.f});
  auto r = run_op("TopK", {x, make_tensor<int64_t>({1}, {2})}, {{"axis", int64_t{0}}, {"largest", int64_t{0}}}, 2, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {2.f, 0.f, 5.f, 1.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 2, 0, 0}));
}

TEST(TopK, KAttributeBeforeOpset10) {
  auto r = run_op("TopK", {make_tensor<float>({4}, {1.f, 4.f, 2.f, 3.f})}, {{"k", int64_t{2}}}, 2, 1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2}, {4.f, 3.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 3}));
}

TEST(TopK, NaNRanksAsLargest) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto r = run_op("TopK", {make_tensor<float>({3}, {1.f, nan, 2.f}), make_tensor<int64_t>({1}, {2})}, {}, 2, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 2}));
}

TEST(TopK, RejectsKLargerThanAxis) {
  auto r = run_op("TopK", {two_by_three(), make_tensor<int64_t>({1}, {4})}, {}, 2, 11);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("K = 4"), std::string::npos) << r.status.message();
}

}  // namespace
}  // namespace fulcrum::testing
