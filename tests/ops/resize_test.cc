#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;

Tensor scales(const std::vector<float>& v) { return make_tensor<float>({static_cast<int64_t>(v.size())}, v); }
Tensor sizes(const std::vector<int64_t>& v) { return make_tensor<int64_t>({static_cast<int64_t>(v.size())}, v); }

// [[1, 2], [3, 4]] as NCHW
Tensor two_by_two() { return make_tensor<float>({1, 1, 2, 2}, {1.f, 2.f, 3.f, 4.f}); }

TEST(Upsample, NearestRepeatsByIntegerScales) {
  auto r = run_op("Upsample", {two_by_two(), scales({1, 1, 2, 3})}, {{"mode", std::string("nearest")}}, 1, 9);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
}

TEST(Upsample, ScalesAttributeAtOpset7) {
  auto r = run_op("Upsample", {make_tensor<float>({1, 2}, {1.f, 3.f})},
                  {{"mode", std::string("linear")}, {"scales", std::vector<float>{1.f, 2.f}}}, 1, 7);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // Asymmetric coordinates: x / 2, clamped at the right edge.
  expect_near(r.outputs[0], {1, 4}, {1.f, 2.f, 3.f, 3.f});
}

TEST(Resize, Opset10NearestCeilsWhenShrinking) {
  // scale 0.6 over 4 columns: 2 outputs at asymmetric coordinates 0 and 1.67, which ceil to 0 and 2.
  Tensor x = make_tensor<float>({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto r = run_op("Resize", {x, scales({1, 1, 0.6f, 0.6f})}, {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 2}, {1.f, 3.f});
}

TEST(Resize, LinearHalfPixelUpsample) {
  auto r = run_op("Resize", {two_by_two(), Tensor(), scales({1, 1, 2, 2})}, {{"mode", std::string("linear")}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 4, 4},
              {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
}

TEST(Resize, NearestAsymmetricRoundPreferCeilWithSizes) {
  Attributes a{{"coordinate_transformation_mode", std::string("asymmetric")},
               {"nearest_mode", std::string("round_prefer_ceil")}};
  // x_original = j * 3 / 6 = 0, 0.5, 1, 1.5, 2, 2.5, which round (ties up) to 0, 1, 1, 2, 2, 3.
  Tensor x = make_tensor<float>({1, 3}, {10.f, 20.f, 30.f});
  auto r = run_op("Resize", {x, Tensor(), Tensor(), sizes({1, 6})}, a, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 6}, {10.f, 20.f, 20.f, 30.f, 30.f, 30.f});
}

TEST(Resize, CubicAlignCorners) {
  // A ramp is reproduced inside; at x = 0.5 the clamped edge taps give
  // 1 * 0.59375 + 2 * (-0.09375) = 0.40625.
  Tensor x = make_tensor<float>({1, 4}, {0.f, 1.f, 2.f, 3.f});
  Attributes a{{"mode", std::string("cubic")}, {"coordinate_transformation_mode", std::string("align_corners")}};
  auto r = run_op("Resize", {x, Tensor(), Tensor(), sizes({1, 7})}, a, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 7}, {0.f, 0.40625f, 1.f, 1.5f, 2.f, 2.59375f, 3.f});
}

TEST(Resize, CubicHalfPixelMatchesOnnxReference) {
  Tensor x = make_tensor<float>({1, 4}, {1.f, 5.f, 2.f, 8.f});
  auto r = run_op("Resize", {x, Tensor(), Tensor(), sizes({1, 6})}, {{"mode", std::string("cubic")}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 6}, {0.6527781f, 3.28125f, 4.8125033f, 1.979167f, 4.71875f, 8.520837f});
}

TEST(Resize, LinearFiveDimensional) {
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  auto r = run_op("Resize", {make_tensor<float>({1, 1, 2, 2, 2}, v), Tensor(), scales({1, 1, 2, 1.5f, 2})},
                  {{"mode", std::string("linear")}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // Values from onnx.reference: the x and y ramps interpolate independently of z.
  std::vector<float> expected;
  const float z_base[4] = {0.f, 1.f, 3.f, 4.f};
  const float y_step[3] = {0.f, 1.f, 2.f};
  const float x_step[4] = {0.f, 0.25f, 0.75f, 1.f};
  for (float z : z_base)
    for (float y : y_step)
      for (float xs : x_step) expected.push_back(z + y + xs);
  expect_near(r.outputs[0], {1, 1, 4, 3, 4}, expected);
}

TEST(Resize, Uint8RoundsHalfToEven) {
  Tensor x = make_tensor<uint8_t>({1, 3}, {10, 20, 30});
  auto r = run_op("Resize", {x, Tensor(), scales({1, 2})}, {{"mode", std::string("linear")}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{10, 12, 18, 22, 28, 30}));
}

TEST(Resize, TfCropAndResizeExtrapolates) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor roi = make_tensor<float>({8}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  Attributes a{{"mode", std::string("linear")},
               {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
               {"extrapolation_value", 10.f}};
  auto r = run_op("Resize", {make_tensor<float>({1, 1, 4, 4}, v), roi, Tensor(), sizes({1, 1, 3, 3})}, a, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 3, 3}, {6.6f, 10, 10, 11.4f, 10, 10, 10, 10, 10});
}

TEST(Resize, RejectsBothScalesAndSizes) {
  auto r = run_op("Resize", {two_by_two(), Tensor(), scales({1, 1, 2, 2}), sizes({1, 1, 4, 4})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("exactly one of inputs 'scales' and 'sizes'"), std::string::npos)
      << r.status.message();
}

TEST(Resize, RejectsScalesOfWrongRank) {
  auto r = run_op("Resize", {two_by_two(), Tensor(), scales({2, 2})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'scales' has 2 values for an input of rank 4"), std::string::npos)
      << r.status.message();
}

TEST(Resize, RejectsCropWithoutRoi) {
  auto r = run_op("Resize", {two_by_two(), Tensor(), Tensor(), sizes({1, 1, 3, 3})},
                  {{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'roi'"), std::string::npos) << r.status.message();
}

TEST(Resize, RejectsUnknownMode) {
  auto r = run_op("Resize", {two_by_two(), Tensor(), scales({1, 1, 2, 2})}, {{"mode", std::string("area")}}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'mode'"), std::string::npos) << r.status.message();
}

}  // namespace
}  // namespace fulcrum::testing
