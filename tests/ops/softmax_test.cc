#include <cmath>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

ops::Attributes axis(int64_t a) { return {{"axis", ops::AttrValue(a)}}; }

TEST(Softmax, LastAxisByDefault) {
  auto r = run_op("Softmax", {make_tensor<float>({2, 3}, {1.f, 2.f, 3.f, 1.f, 1.f, 1.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.f, 1 / 3.f, 1 / 3.f});
}

TEST(Softmax, AxisZeroWorksDownColumns) {
  auto r = run_op("Softmax", {make_tensor<float>({2, 2}, {0.f, 1.f, 0.f, 0.f})}, axis(0));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {0.5f, 0.7310586f, 0.5f, 0.2689414f});
}

TEST(Softmax, LargeValuesDoNotOverflow) {
  auto r = run_op("Softmax", {make_tensor<float>({2}, {1000.f, 1001.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2}, {0.26894142f, 0.73105858f});
}

// Before opset 13 the input is coerced to 2-D at `axis`: the row is every axis from there on.
TEST(Softmax, BeforeOpset13CoercesTo2D) {
  const Tensor x = make_tensor<float>({1, 2, 2}, {0.f, 0.f, 0.f, std::log(2.f)});
  auto old = run_op("Softmax", {x}, axis(1), 1, 11);
  ASSERT_TRUE(old.status.is_ok()) << old.status.to_string();
  expect_near(old.outputs[0], {1, 2, 2}, {0.2f, 0.2f, 0.2f, 0.4f});
  auto single = run_op("Softmax", {x}, axis(1), 1, 13);
  ASSERT_TRUE(single.status.is_ok()) << single.status.to_string();
  expect_near(single.outputs[0], {1, 2, 2}, {0.5f, 1 / 3.f, 0.5f, 2 / 3.f});
}

TEST(Softmax, DefaultAxisBeforeOpset13IsOne) {
  auto r = run_op("Softmax", {make_tensor<float>({1, 2, 2}, {0.f, 0.f, 0.f, std::log(3.f)})}, {}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 2}, {1 / 6.f, 1 / 6.f, 1 / 6.f, 0.5f});
}

TEST(Softmax, RejectsAxisOutOfRange) {
  auto r = run_op("Softmax", {make_tensor<float>({2, 2}, {0.f, 0.f, 0.f, 0.f})}, axis(2));
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("'axis' 2"), std::string::npos) << r.status.message();
}

TEST(Softmax, Float64StaysFloat64) {
  auto r = run_op("Softmax", {make_tensor<double>({2}, {0.0, 0.0})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(r.outputs[0]), (std::vector<double>{0.5, 0.5}));
}

TEST(LogSoftmax, IsLogOfSoftmax) {
  auto r = run_op("LogSoftmax", {make_tensor<float>({1, 3}, {1.f, 2.f, 3.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 3}, {-2.4076059f, -1.4076059f, -0.4076059f});
}

TEST(LogSoftmax, LargeValuesStayFinite) {
  auto r = run_op("LogSoftmax", {make_tensor<float>({2}, {10000.f, 10000.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2}, {-0.6931472f, -0.6931472f});
}

TEST(Hardmax, FirstMaximumWins) {
  auto r = run_op("Hardmax", {make_tensor<float>({2, 3}, {3.f, 1.f, 3.f, 0.f, 2.f, 1.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {1.f, 0.f, 0.f, 0.f, 1.f, 0.f});
}

TEST(Hardmax, BeforeOpset13OneHotOverFlattenedRow) {
  const Tensor x = make_tensor<float>({1, 2, 2}, {1.f, 5.f, 4.f, 2.f});
  auto old = run_op("Hardmax", {x}, {}, 1, 11);
  ASSERT_TRUE(old.status.is_ok()) << old.status.to_string();
  expect_near(old.outputs[0], {1, 2, 2}, {0.f, 1.f, 0.f, 0.f});
  auto single = run_op("Hardmax", {x}, axis(1), 1, 13);
  ASSERT_TRUE(single.status.is_ok()) << single.status.to_string();
  expect_near(single.outputs[0], {1, 2, 2}, {0.f, 1.f, 1.f, 0.f});
}

}  // namespace
}  // namespace fulcrum::testing
