#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
  auto r = run_op("QuantizeLinear", {make_tensor<float>({6}, {0.f, 2.f, 3.f, 1000.f, -254.f, -1000.f}),
                                     make_tensor<float>({}, {2.f}), make_tensor<uint8_t>({}, {128})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kUInt8);
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{128, 129, 130, 255, 1, 0}));
}

TEST(QuantizeLinear, Int8TiesGoToEven) {
  auto r = run_op("QuantizeLinear", {make_tensor<float>({6}, {1.f, 3.f, 5.f, -1.f, -3.f, -300.f}),
                                     make_tensor<float>({}, {2.f}), make_tensor<int8_t>({}, {0})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int8_t>(r.outputs[0]), (std::vector<int8_t>{0, 2, 2, 0, -2, -128}));
}

TEST(QuantizeLinear, WithoutZeroPointGivesUint8) {
  auto r = run_op("QuantizeLinear", {make_tensor<float>({2}, {-1.f, 7.f}), make_tensor<float>({}, {1.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kUInt8);
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{0, 7}));
}

TEST(QuantizeLinear, PerAxis) {
  auto r = run_op("QuantizeLinear", {make_tensor<float>({1, 2, 2}, {1.f, 2.f, 4.f, 6.f}),
                                     make_tensor<float>({2}, {1.f, 2.f}), make_tensor<uint8_t>({2}, {0, 10})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{1, 2, 12, 13}));
}

TEST(QuantizeLinear, PerAxisNeedsOpset13) {
  auto r = run_op(
      "QuantizeLinear",
      {make_tensor<float>({1, 2}, {1.f, 2.f}), make_tensor<float>({2}, {1.f, 2.f}), make_tensor<uint8_t>({2}, {0, 0})},
      {}, 1, 10);
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'y_scale'"), std::string::npos) << r.status.message();
}

TEST(QuantizeLinear, RejectsScaleOfWrongLength) {
  auto r = run_op("QuantizeLinear", {make_tensor<float>({1, 2}, {1.f, 2.f}), make_tensor<float>({3}, {1.f, 2.f, 3.f})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'y_scale' has 3 elements"), std::string::npos) << r.status.message();
}

TEST(DequantizeLinear, SubtractsZeroPointAndScales) {
  auto r = run_op("DequantizeLinear", {make_tensor<uint8_t>({4}, {0, 3, 128, 255}), make_tensor<float>({}, {2.f}),
                                       make_tensor<uint8_t>({}, {128})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {4}, {-256.f, -250.f, 0.f, 254.f});
}

TEST(DequantizeLinear, PerAxisInt8) {
  auto r = run_op("DequantizeLinear",
                  {make_tensor<int8_t>({2, 2}, {-1, 1, -1, 1}), make_tensor<float>({2}, {1.f, 0.5f}),
                   make_tensor<int8_t>({2}, {0, 1})},
                  {{"axis", ops::AttrValue(int64_t{0})}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {-1.f, 1.f, -1.f, 0.f});
}

TEST(DequantizeLinear, RejectsZeroPointOfOtherDtype) {
  auto r = run_op("DequantizeLinear",
                  {make_tensor<uint8_t>({1}, {1}), make_tensor<float>({}, {1.f}), make_tensor<int8_t>({}, {0})});
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'x_zero_point'"), std::string::npos) << r.status.message();
}

TEST(DynamicQuantizeLinear, SpansMinToMaxIncludingZero) {
  auto r = run_op("DynamicQuantizeLinear", {make_tensor<float>({6}, {0.f, 2.f, -3.f, -2.5f, 1.34f, 0.5f})}, {}, 3, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
  expect_near(r.outputs[1], {}, {5.f / 255.f});
  EXPECT_EQ(values_of<uint8_t>(r.outputs[2]), (std::vector<uint8_t>{153}));
}

TEST(DynamicQuantizeLinear, AllZerosDoesNotDivideByZero) {
  auto r = run_op("DynamicQuantizeLinear", {make_tensor<float>({2}, {0.f, 0.f})}, {}, 3, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(values_of<uint8_t>(r.outputs[2]), (std::vector<uint8_t>{0}));
}

// a = [1, 2] (scale 0.5, zero point 128), b = [2, 1]^T (scale 1, zero point 128):
// a.b = 4, requantized with y_scale 1 and y_zero_point 10.
TEST(QLinearMatMul, RequantizesIntegerProduct) {
  auto r =
      run_op("QLinearMatMul",
             {make_tensor<uint8_t>({1, 2}, {130, 132}), make_tensor<float>({}, {0.5f}), make_tensor<uint8_t>({}, {128}),
              make_tensor<uint8_t>({2, 1}, {130, 129}), make_tensor<float>({}, {1.f}), make_tensor<uint8_t>({}, {128}),
              make_tensor<float>({}, {1.f}), make_tensor<uint8_t>({}, {10})},
             {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].shape(), (Shape{1, 1}));
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{14}));
}

TEST(QLinearMatMul, RejectsMismatchedInnerDimensions) {
  auto s = make_tensor<float>({}, {1.f});
  auto z = make_tensor<uint8_t>({}, {0});
  auto r = run_op("QLinearMatMul",
                  {make_tensor<uint8_t>({1, 2}, {1, 2}), s, z, make_tensor<uint8_t>({3, 1}, {1, 2, 3}), s, z, s, z}, {},
                  1, 10);
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("inner dimensions"), std::string::npos) << r.status.message();
}

std::vector<Tensor> conv_inputs(std::vector<int32_t> bias) {
  std::vector<Tensor> in{make_tensor<uint8_t>({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8}),
                         make_tensor<float>({}, {1.f}),
                         make_tensor<uint8_t>({}, {0}),
                         make_tensor<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1}),
                         make_tensor<float>({1}, {1.f}),
                         make_tensor<uint8_t>({1}, {0}),
                         make_tensor<float>({}, {2.f}),
                         make_tensor<uint8_t>({}, {0})};
  if (!bias.empty()) in.push_back(make_tensor<int32_t>({1}, bias));
  return in;
}

TEST(QLinearConv, SumsWindowsThenRequantizes) {
  auto r = run_op("QLinearConv", conv_inputs({}), {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{4, 6, 10, 12}));
}

// Window sums 0, 3, 9, 24 (plus bias 2: 2, 5, 11, 26) halved: ties go to even.
TEST(QLinearConv, PadsStridesAndBias) {
  ops::Attributes attrs{{"pads", ops::AttrValue(std::vector<int64_t>{1, 1, 1, 1})},
                        {"strides", ops::AttrValue(std::vector<int64_t>{2, 2})}};
  auto r = run_op("QLinearConv", conv_inputs({}), attrs, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{0, 2, 4, 12}));
  auto biased = run_op("QLinearConv", conv_inputs({2}), attrs, 1, 10);
  ASSERT_TRUE(biased.status.is_ok()) << biased.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(biased.outputs[0]), (std::vector<uint8_t>{1, 2, 6, 13}));
}

TEST(QLinearConv, RejectsChannelMismatch) {
  auto in = conv_inputs({});
  in[3] = make_tensor<uint8_t>({1, 2, 1, 1}, {1, 1});
  auto r = run_op("QLinearConv", in, {}, 1, 10);
  ASSERT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("input channels"), std::string::npos) << r.status.message();
}

}  // namespace
}  // namespace fulcrum::testing
