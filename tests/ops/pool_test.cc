#include <cmath>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

std::vector<float> iota_values(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return v;
}

TEST(MaxPool, TwoByTwoWithIndices) {
  // 4x4 image 1..16: each 2x2 block's maximum is its bottom-right element.
  auto r = run_op("MaxPool", {make_tensor<float>({1, 1, 4, 4}, iota_values(16))},
                  {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 2, 2}, {6.f, 8.f, 14.f, 16.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (Ints{5, 7, 13, 15}));
}

TEST(MaxPool, IndicesCountWholeTensorAndColumnMajor) {
  // Two channels of 2x3; global-size kernel 2x3. Channel 1's max sits at (1, 2).
  auto x = make_tensor<float>({1, 2, 2, 3}, {0, 9, 0, 0, 0, 0, /* channel 1 */ 0, 0, 0, 0, 0, 9});
  auto row = run_op("MaxPool", {x}, {{"kernel_shape", Ints{2, 3}}}, 2);
  ASSERT_TRUE(row.status.is_ok()) << row.status.to_string();
  EXPECT_EQ(values_of<int64_t>(row.outputs[1]), (Ints{1, 6 + 5}));
  // Column major: (h, w) -> h + w * height, so (0, 1) -> 2 and (1, 2) -> 5.
  auto col = run_op("MaxPool", {x}, {{"kernel_shape", Ints{2, 3}}, {"storage_order", int64_t{1}}}, 2);
  ASSERT_TRUE(col.status.is_ok()) << col.status.to_string();
  EXPECT_EQ(values_of<int64_t>(col.outputs[1]), (Ints{2, 6 + 5}));
}

TEST(MaxPool, CeilModeKeepsPartialLastWindow) {
  // Length 5, kernel 2, stride 2: floor gives 2 windows, ceil adds the partial [4, 5).
  auto x = make_tensor<float>({1, 1, 5}, {1.f, 5.f, 2.f, 3.f, 4.f});
  auto floor_mode = run_op("MaxPool", {x}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}});
  auto ceil_mode = run_op("MaxPool", {x}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", int64_t{1}}});
  ASSERT_TRUE(floor_mode.status.is_ok() && ceil_mode.status.is_ok());
  expect_near(floor_mode.outputs[0], {1, 1, 2}, {5.f, 3.f});
  expect_near(ceil_mode.outputs[0], {1, 1, 3}, {5.f, 3.f, 4.f});
}

TEST(MaxPool, DilationsAndPadsNeverReadPadding) {
  // Negative values: a padded zero would win if padding were read.
  auto r = run_op("MaxPool", {make_tensor<float>({1, 1, 5}, {-1.f, -2.f, -3.f, -4.f, -5.f})},
                  {{"kernel_shape", Ints{2}}, {"dilations", Ints{2}}, {"pads", Ints{1, 0}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // Windows {-1 pad, 1}, {0, 2}, {1, 3}, {2, 4} over positions -1..4.
  expect_near(r.outputs[0], {1, 1, 4}, {-2.f, -1.f, -2.f, -3.f});
}

TEST(MaxPool, Uint8) {
  auto r = run_op("MaxPool", {make_tensor<uint8_t>({1, 1, 4}, {3, 200, 7, 1})}, {{"kernel_shape", Ints{2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(r.outputs[0]), (std::vector<uint8_t>{200, 200, 7}));
}

TEST(AveragePool, CountIncludePadChangesTheDivisor) {
  auto x = make_tensor<float>({1, 1, 3}, {3.f, 6.f, 9.f});
  ops::Attributes attrs = {{"kernel_shape", Ints{2}}, {"pads", Ints{1, 1}}};
  auto excl = run_op("AveragePool", {x}, attrs);
  attrs["count_include_pad"] = int64_t{1};
  auto incl = run_op("AveragePool", {x}, attrs);
  ASSERT_TRUE(excl.status.is_ok() && incl.status.is_ok());
  expect_near(excl.outputs[0], {1, 1, 4}, {3.f, 4.5f, 7.5f, 9.f});
  expect_near(incl.outputs[0], {1, 1, 4}, {1.5f, 4.5f, 7.5f, 4.5f});
}

TEST(AveragePool, SameUpperAndSameLower) {
  // Stride 2 keeps 2 outputs. Kernel 2 needs no padding; kernel 3 needs one position,
  // which SAME_LOWER puts before the input (padding is not counted in the average).
  auto x = make_tensor<float>({1, 1, 4}, {1.f, 2.f, 3.f, 4.f});
  auto upper = run_op("AveragePool", {x},
                      {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"auto_pad", std::string("SAME_UPPER")}});
  auto lower = run_op("AveragePool", {x},
                      {{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"auto_pad", std::string("SAME_LOWER")}});
  ASSERT_TRUE(upper.status.is_ok() && lower.status.is_ok());
  expect_near(upper.outputs[0], {1, 1, 2}, {1.5f, 3.5f});
  expect_near(lower.outputs[0], {1, 1, 2}, {1.5f, 3.f});
}

TEST(LpPool, PTwoAndPOne) {
  auto x = make_tensor<float>({1, 1, 4}, {3.f, -4.f, 0.f, 1.f});
  auto p2 = run_op("LpPool", {x}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}});
  auto p1 = run_op("LpPool", {x}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"p", int64_t{1}}});
  ASSERT_TRUE(p2.status.is_ok() && p1.status.is_ok());
  expect_near(p2.outputs[0], {1, 1, 2}, {5.f, 1.f});
  expect_near(p1.outputs[0], {1, 1, 2}, {7.f, 1.f});
}

TEST(GlobalPools, AverageMaxAndLp) {
  auto x = make_tensor<float>({1, 2, 2, 2}, {1.f, 2.f, 3.f, 4.f, -1.f, -2.f, 2.f, 0.f});
  auto avg = run_op("GlobalAveragePool", {x});
  auto max = run_op("GlobalMaxPool", {x});
  auto lp = run_op("GlobalLpPool", {x});
  ASSERT_TRUE(avg.status.is_ok() && max.status.is_ok() && lp.status.is_ok());
  expect_near(avg.outputs[0], {1, 2, 1, 1}, {2.5f, -0.25f});
  expect_near(max.outputs[0], {1, 2, 1, 1}, {4.f, 2.f});
  expect_near(lp.outputs[0], {1, 2, 1, 1}, {std::sqrt(30.f), 3.f});
}

TEST(MaxUnpool, ScattersIntoZeros) {
  auto x = make_tensor<float>({1, 1, 2, 2}, {5.f, 6.f, 7.f, 8.f});
  auto i = make_tensor<int64_t>({1, 1, 2, 2}, {5, 7, 13, 15});
  auto r = run_op("MaxUnpool", {x, i}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 4, 4}, {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8});
  // A larger output_shape keeps the unpooled 4x4 at its start.
  auto big = run_op("MaxUnpool", {x, i, make_tensor<int64_t>({4}, {1, 1, 4, 5})},
                    {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}, 1, 11);
  ASSERT_TRUE(big.status.is_ok()) << big.status.to_string();
  expect_near(big.outputs[0], {1, 1, 4, 5}, {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8, 0});
}

TEST(MaxUnpool, RejectsOutOfRangeIndex) {
  auto r = run_op("MaxUnpool", {make_tensor<float>({1, 1, 1}, {1.f}), make_tensor<int64_t>({1, 1, 1}, {2})},
                  {{"kernel_shape", Ints{2}}}, 1, 11);
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("out of range"), std::string::npos) << r.status.message();
}

TEST(Pools, RejectBadAttributesAndShapes) {
  auto x = make_tensor<float>({1, 1, 4, 4}, std::vector<float>(16));
  auto missing = run_op("MaxPool", {x});
  EXPECT_NE(missing.status.message().find("kernel_shape"), std::string::npos) << missing.status.message();
  auto rank = run_op("AveragePool", {x}, {{"kernel_shape", Ints{2}}});
  EXPECT_NE(rank.status.message().find("kernel_shape"), std::string::npos) << rank.status.message();
  auto order = run_op("MaxPool", {x}, {{"kernel_shape", Ints{2, 2}}, {"storage_order", int64_t{2}}});
  EXPECT_NE(order.status.message().find("storage_order"), std::string::npos) << order.status.message();
  auto flat = run_op("GlobalAveragePool", {make_tensor<float>({2, 2}, {1, 2, 3, 4})});
  EXPECT_NE(flat.status.message().find("rank"), std::string::npos) << flat.status.message();
  auto big = run_op("MaxPool", {x}, {{"kernel_shape", Ints{5, 5}}});
  EXPECT_NE(big.status.message().find("smaller than the kernel"), std::string::npos) << big.status.message();
  auto ints = run_op("AveragePool", {make_tensor<int32_t>({1, 1, 2}, {1, 2})}, {{"kernel_shape", Ints{2}}});
  EXPECT_EQ(ints.status.code(), StatusCode::kUnimplemented) << ints.status.to_string();
}

}  // namespace
}  // namespace fulcrum::testing
