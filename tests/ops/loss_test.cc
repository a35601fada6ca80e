#include <cmath>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

ops::Attributes reduction(const std::string& r) { return {{"reduction", ops::AttrValue(r)}}; }

Tensor log_probs() { return make_tensor<float>({2, 3}, {-1.f, -2.f, -3.f, -0.5f, -1.5f, -2.5f}); }
Tensor targets() { return make_tensor<int64_t>({2}, {0, 2}); }

TEST(NegativeLogLikelihoodLoss, Reductions) {
  auto none = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets()}, reduction("none"));
  ASSERT_TRUE(none.status.is_ok()) << none.status.to_string();
  expect_near(none.outputs[0], {2}, {1.f, 2.5f});
  auto sum = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets()}, reduction("sum"));
  ASSERT_TRUE(sum.status.is_ok()) << sum.status.to_string();
  expect_near(sum.outputs[0], {}, {3.5f});
  auto mean = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets()});
  ASSERT_TRUE(mean.status.is_ok()) << mean.status.to_string();
  expect_near(mean.outputs[0], {}, {1.75f});
}

TEST(NegativeLogLikelihoodLoss, WeightedMeanDividesBySumOfWeights) {
  auto w = make_tensor<float>({3}, {1.f, 2.f, 3.f});
  auto none = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets(), w}, reduction("none"));
  ASSERT_TRUE(none.status.is_ok()) << none.status.to_string();
  expect_near(none.outputs[0], {2}, {1.f, 7.5f});
  auto mean = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets(), w});
  ASSERT_TRUE(mean.status.is_ok()) << mean.status.to_string();
  expect_near(mean.outputs[0], {}, {8.5f / 4.f});
}

TEST(NegativeLogLikelihoodLoss, IgnoredTargetsCountForNothing) {
  ops::Attributes attrs{{"ignore_index", ops::AttrValue(int64_t{2})}};
  auto r = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets()}, attrs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {}, {1.f});
}

TEST(NegativeLogLikelihoodLoss, SpatialDimensions) {
  // [N=1, C=2, d=2]: position 0 takes class 1, position 1 class 0.
  auto r = run_op("NegativeLogLikelihoodLoss",
                  {make_tensor<float>({1, 2, 2}, {-1.f, -2.f, -3.f, -4.f}), make_tensor<int32_t>({1, 2}, {1, 0})},
                  reduction("none"));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2}, {3.f, 2.f});
}

TEST(NegativeLogLikelihoodLoss, RejectsTargetOutOfRange) {
  auto r = run_op("NegativeLogLikelihoodLoss", {log_probs(), make_tensor<int64_t>({2}, {0, 3})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'target' has class 3"), std::string::npos) << r.status.message();
}

TEST(NegativeLogLikelihoodLoss, RejectsTargetOfWrongShape) {
  auto r = run_op("NegativeLogLikelihoodLoss", {log_probs(), make_tensor<int64_t>({3}, {0, 1, 2})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'target' has shape [3]"), std::string::npos) << r.status.message();
}

TEST(NegativeLogLikelihoodLoss, RejectsBadReduction) {
  auto r = run_op("NegativeLogLikelihoodLoss", {log_probs(), targets()}, reduction("max"));
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("'reduction'"), std::string::npos) << r.status.message();
}

TEST(SoftmaxCrossEntropyLoss, UniformScoresGiveLogC) {
  auto r = run_op("SoftmaxCrossEntropyLoss",
                  {make_tensor<float>({1, 3}, {5.f, 5.f, 5.f}), make_tensor<int64_t>({1}, {1})}, {}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  const float l = std::log(3.f);
  expect_near(r.outputs[0], {}, {l});
  expect_near(r.outputs[1], {1, 3}, {-l, -l, -l});
}

TEST(SoftmaxCrossEntropyLoss, ClassAxisIsOneWithSpatialDims) {
  // Position 0: scores (0, ln 3) -> log-probs (ln 1/4, ln 3/4); position 1: (0, 0).
  auto r = run_op("SoftmaxCrossEntropyLoss",
                  {make_tensor<float>({1, 2, 2}, {0.f, 0.f, std::log(3.f), 0.f}), make_tensor<int64_t>({1, 2}, {0, 1})},
                  reduction("none"));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2}, {std::log(4.f), std::log(2.f)});
}

TEST(SoftmaxCrossEntropyLoss, WeightsAndIgnoreIndex) {
  ops::Attributes attrs{{"ignore_index", ops::AttrValue(int64_t{0})},
                        {"reduction", ops::AttrValue(std::string("sum"))}};
  auto r = run_op("SoftmaxCrossEntropyLoss",
                  {make_tensor<float>({2, 2}, {0.f, 0.f, 0.f, 0.f}), make_tensor<int64_t>({2}, {0, 1}),
                   make_tensor<float>({2}, {10.f, 3.f})},
                  attrs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {}, {3.f * std::log(2.f)});
}

}  // namespace
}  // namespace fulcrum::testing
