#include <cmath>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

ops::Attributes epsilon(float e) { return {{"epsilon", ops::AttrValue(e)}}; }

TEST(BatchNormalization, InferenceUsesGivenStatistics) {
  auto r = run_op("BatchNormalization",
                  {make_tensor<float>({1, 2, 1, 2}, {1.f, 2.f, 3.f, 4.f}), make_tensor<float>({2}, {1.f, 2.f}),
                   make_tensor<float>({2}, {0.f, 1.f}), make_tensor<float>({2}, {1.5f, 3.5f}),
                   make_tensor<float>({2}, {0.25f, 0.25f})},
                  epsilon(0.f));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 1, 2}, {-1.f, 1.f, -1.f, 3.f});
}

TEST(BatchNormalization, TrainingModeUsesBatchStatisticsAndUpdatesRunningOnes) {
  ops::Attributes attrs = epsilon(0.f);
  attrs["training_mode"] = ops::AttrValue(int64_t{1});
  auto r = run_op("BatchNormalization",
                  {make_tensor<float>({2, 1}, {1.f, 3.f}), make_tensor<float>({1}, {1.f}),
                   make_tensor<float>({1}, {0.f}), make_tensor<float>({1}, {0.f}), make_tensor<float>({1}, {1.f})},
                  attrs, 3, 15);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 1}, {-1.f, 1.f});
  expect_near(r.outputs[1], {1}, {0.2f});  // 0 * 0.9 + 2 * 0.1
  expect_near(r.outputs[2], {1}, {1.0f});  // 1 * 0.9 + 1 * 0.1
}

TEST(BatchNormalization, NonSpatialBeforeOpset9HasOneParameterPerActivation) {
  ops::Attributes attrs = epsilon(0.f);
  attrs["spatial"] = ops::AttrValue(int64_t{0});
  auto r = run_op("BatchNormalization",
                  {make_tensor<float>({1, 1, 2}, {1.f, 1.f}), make_tensor<float>({1, 2}, {1.f, 2.f}),
                   make_tensor<float>({1, 2}, {0.f, 0.f}), make_tensor<float>({1, 2}, {0.f, 2.f}),
                   make_tensor<float>({1, 2}, {1.f, 4.f})},
                  attrs, 1, 7);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 2}, {1.f, -1.f});
}

TEST(BatchNormalization, TrainingOutputsBeforeOpset14AreUnimplemented) {
  auto one = make_tensor<float>({1}, {1.f});
  auto r = run_op("BatchNormalization", {make_tensor<float>({1, 1}, {1.f}), one, one, one, one}, {}, 3, 9);
  ASSERT_EQ(r.status.code(), StatusCode::kUnimplemented) << r.status.to_string();
}

TEST(BatchNormalization, RunningOutputsNeedTrainingMode) {
  auto one = make_tensor<float>({1}, {1.f});
  auto r = run_op("BatchNormalization", {make_tensor<float>({1, 1}, {1.f}), one, one, one, one}, {}, 3, 15);
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("training_mode"), std::string::npos) << r.status.message();
}

TEST(BatchNormalization, Opset6FollowsIsTest) {
  auto one = make_tensor<float>({1}, {1.f});
  auto x = make_tensor<float>({1, 1}, {3.f});
  auto training = run_op("BatchNormalization", {x, one, one, one, one}, {}, 1, 6);
  EXPECT_EQ(training.status.code(), StatusCode::kUnimplemented) << training.status.to_string();
  ops::Attributes attrs = epsilon(0.f);
  attrs["is_test"] = ops::AttrValue(int64_t{1});
  auto test = run_op("BatchNormalization", {x, one, one, one, one}, attrs, 1, 6);
  ASSERT_TRUE(test.status.is_ok()) << test.status.to_string();
  expect_near(test.outputs[0], {1, 1}, {3.f});  // (3 - 1) / 1 * 1 + 1
}

TEST(BatchNormalization, RejectsScaleOfWrongSize) {
  auto two = make_tensor<float>({2}, {1.f, 1.f});
  auto three = make_tensor<float>({3}, {1.f, 1.f, 1.f});
  auto r = run_op("BatchNormalization", {make_tensor<float>({1, 2}, {1.f, 2.f}), three, two, two, two});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'scale'"), std::string::npos) << r.status.message();
}

TEST(InstanceNormalization, NormalizesEachChannelOfEachSample) {
  auto r = run_op("InstanceNormalization", {make_tensor<float>({1, 2, 2}, {1.f, 3.f, 0.f, 4.f}),
                                            make_tensor<float>({2}, {1.f, 1.f}), make_tensor<float>({2}, {0.f, 5.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 2}, {-1.f, 1.f, 4.f, 6.f}, 1e-4f);
}

TEST(LayerNormalization, LastAxisWithMeanAndInvStdDev) {
  auto r = run_op("LayerNormalization",
                  {make_tensor<float>({2, 2}, {1.f, 3.f, 2.f, 6.f}), make_tensor<float>({2}, {1.f, 2.f}),
                   make_tensor<float>({2}, {0.f, 1.f})},
                  epsilon(0.f), 3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {-1.f, 3.f, -1.f, 3.f});
  expect_near(r.outputs[1], {2, 1}, {2.f, 4.f});
  expect_near(r.outputs[2], {2, 1}, {1.f, 0.5f});
}

TEST(LayerNormalization, AxisZeroNormalizesEverything) {
  ops::Attributes attrs = epsilon(0.f);
  attrs["axis"] = ops::AttrValue(int64_t{0});
  auto r = run_op("LayerNormalization",
                  {make_tensor<float>({2, 2}, {1.f, 3.f, 2.f, 6.f}), make_tensor<float>({2, 2}, {1.f, 1.f, 1.f, 1.f})},
                  attrs, 3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  const float s = std::sqrt(3.5f);
  expect_near(r.outputs[0], {2, 2}, {-2 / s, 0.f, -1 / s, 3 / s});
  expect_near(r.outputs[1], {1, 1}, {3.f});
}

TEST(LayerNormalization, RejectsScaleThatDoesNotBroadcast) {
  auto r = run_op("LayerNormalization",
                  {make_tensor<float>({2, 2}, {1.f, 3.f, 2.f, 6.f}), make_tensor<float>({3}, {1.f, 1.f, 1.f})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'Scale'"), std::string::npos) << r.status.message();
}

TEST(LayerNormalization, RejectsAxisOutOfRange) {
  auto r = run_op("LayerNormalization", {make_tensor<float>({2}, {1.f, 3.f}), make_tensor<float>({2}, {1.f, 1.f})},
                  {{"axis", ops::AttrValue(int64_t{-2})}});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'axis' -2"), std::string::npos) << r.status.message();
}

TEST(LRN, SumsSquaresOverNeighbouringChannels) {
  ops::Attributes attrs{{"size", ops::AttrValue(int64_t{3})},
                        {"alpha", ops::AttrValue(3.f)},
                        {"beta", ops::AttrValue(1.f)},
                        {"bias", ops::AttrValue(1.f)}};
  auto r = run_op("LRN", {make_tensor<float>({1, 3, 1, 1}, {1.f, 2.f, 3.f})}, attrs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 3, 1, 1}, {1 / 6.f, 2 / 15.f, 3 / 14.f});
}

TEST(LRN, EvenSizeWindowLeansForward) {
  ops::Attributes attrs{{"size", ops::AttrValue(int64_t{2})},
                        {"alpha", ops::AttrValue(2.f)},
                        {"beta", ops::AttrValue(1.f)},
                        {"bias", ops::AttrValue(0.f)}};
  auto r = run_op("LRN", {make_tensor<float>({1, 3, 1, 1}, {1.f, 2.f, 3.f})}, attrs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 3, 1, 1}, {1 / 5.f, 2 / 13.f, 3 / 9.f});
}

TEST(LRN, RequiresSize) {
  auto r = run_op("LRN", {make_tensor<float>({1, 1, 1, 1}, {1.f})});
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("'size'"), std::string::npos) << r.status.message();
}

TEST(MeanVarianceNormalization, DefaultAxesArePerChannel) {
  auto r = run_op("MeanVarianceNormalization", {make_tensor<float>({1, 2, 1, 2}, {1.f, 3.f, 10.f, 20.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 1, 2}, {-1.f, 1.f, -1.f, 1.f});
}

TEST(MeanVarianceNormalization, RejectsBadAxis) {
  auto r = run_op("MeanVarianceNormalization", {make_tensor<float>({2, 2}, {1.f, 3.f, 10.f, 20.f})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'axes'"), std::string::npos) << r.status.message();
}

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  auto r = run_op("Dropout", {make_tensor<float>({3}, {1.f, -2.f, 3.f})}, {}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3}, {1.f, -2.f, 3.f});
  ASSERT_EQ(r.outputs[1].dtype(), DType::kBool);
  EXPECT_EQ(values_of<bool>(r.outputs[1]), (std::vector<bool>{true, true, true}));
}

TEST(Dropout, Opset7MaskHasInputDtype) {
  auto r = run_op("Dropout", {make_tensor<float>({2}, {1.f, 2.f})}, {{"ratio", ops::AttrValue(0.3f)}}, 2, 7);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2}, {1.f, 2.f});
  expect_near(r.outputs[1], {2}, {1.f, 1.f});
}

// numpy.random.RandomState(0).uniform gives 0.5488, 0.7152, 0.6028, 0.5449: with ratio 0.6
// the first and last are dropped and the rest scaled by 1 / 0.4.
TEST(Dropout, SeededTrainingModeMatchesNumpy) {
  auto r = run_op(
      "Dropout",
      {make_tensor<float>({4}, {1.f, 1.f, 1.f, 1.f}), make_tensor<float>({}, {0.6f}), make_tensor<bool>({}, {true})},
      {{"seed", ops::AttrValue(int64_t{0})}}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {4}, {0.f, 2.5f, 2.5f, 0.f});
  EXPECT_EQ(values_of<bool>(r.outputs[1]), (std::vector<bool>{false, true, true, false}));
}

TEST(Dropout, RejectsRatioOfOneInTraining) {
  auto r =
      run_op("Dropout", {make_tensor<float>({1}, {1.f}), make_tensor<float>({}, {1.f}), make_tensor<bool>({}, {true})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'ratio'"), std::string::npos) << r.status.message();
}

TEST(Dropout, TrainingBeforeOpset7IsUnimplemented) {
  auto r = run_op("Dropout", {make_tensor<float>({1}, {1.f})}, {}, 1, 6);
  EXPECT_EQ(r.status.code(), StatusCode::kUnimplemented) << r.status.to_string();
  auto test_mode = run_op("Dropout", {make_tensor<float>({1}, {1.f})}, {{"is_test", ops::AttrValue(int64_t{1})}}, 1, 6);
  ASSERT_TRUE(test_mode.status.is_ok()) << test_mode.status.to_string();
  expect_near(test_mode.outputs[0], {1}, {1.f});
}

}  // namespace
}  // namespace fulcrum::testing
