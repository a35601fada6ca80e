#include <random>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

std::vector<float> iota_values(int64_t n, float start = 1.f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = start + static_cast<float>(i);
  return v;
}

std::vector<float> random_values(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// Direct 2-D convolution straight from the definition, for comparing against im2col + gemm.
std::vector<float> direct_conv2d(const std::vector<float>& x, Ints xs, const std::vector<float>& w, Ints ws,
                                 int64_t group, Ints strides, Ints dil, Ints pads, Ints& ys) {
  const int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], m = ws[0], kh = ws[2], kw = ws[3];
  const int64_t oh = (h + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) / strides[0] + 1;
  const int64_t ow = (wd + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) / strides[1] + 1;
  ys = {n, m, oh, ow};
  std::vector<float> y(static_cast<size_t>(n * m * oh * ow), 0.f);
  const int64_t cg = c / group, mg = m / group;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                const int64_t yy = i * strides[0] - pads[0] + p * dil[0], xx = j * strides[1] - pads[1] + q * dil[1];
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                const int64_t cin = (o / mg) * cg + ci;
                acc += x[static_cast<size_t>(((b * c + cin) * h + yy) * wd + xx)] *
                       w[static_cast<size_t>(((o * cg + ci) * kh + p) * kw + q)];
              }
          y[static_cast<size_t>(((b * m + o) * oh + i) * ow + j)] = static_cast<float>(acc);
        }
  return y;
}

TEST(Conv, ValidWindowsHandComputed) {
  // 3x3 image 1..9, 2x2 kernel [[1, 0], [0, -1]]: each output is x[i][j] - x[i+1][j+1] = -4.
  auto r = run_op("Conv", {make_tensor<float>({1, 1, 3, 3}, iota_values(9)),
                           make_tensor<float>({1, 1, 2, 2}, {1.f, 0.f, 0.f, -1.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 2, 2}, {-4.f, -4.f, -4.f, -4.f});
}

TEST(Conv, PadsStridesAndBias) {
  // 3x3 ones kernel over 1..9 with pad 1 and stride 2: window sums at the corners, + bias 10.
  auto r = run_op("Conv",
                  {make_tensor<float>({1, 1, 3, 3}, iota_values(9)),
                   make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9, 1.f)), make_tensor<float>({1}, {10.f})},
                  {{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 2, 2}, {12.f + 10.f, 16.f + 10.f, 24.f + 10.f, 28.f + 10.f});
}

TEST(Conv, DepthwiseGroups) {
  // Two channels, group 2: channel 0 scaled by 2, channel 1 by -1 (1x1 kernels).
  auto r = run_op(
      "Conv", {make_tensor<float>({1, 2, 1, 2}, {1.f, 2.f, 3.f, 4.f}), make_tensor<float>({2, 1, 1, 1}, {2.f, -1.f})},
      {{"group", int64_t{2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 1, 2}, {2.f, 4.f, -3.f, -4.f});
}

TEST(Conv, OneDimensionalDilated) {
  // Kernel [1, 1] dilated by 2 adds x[i] + x[i+2].
  auto r = run_op("Conv", {make_tensor<float>({1, 1, 5}, iota_values(5)), make_tensor<float>({1, 1, 2}, {1.f, 1.f})},
                  {{"dilations", Ints{2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 3}, {4.f, 6.f, 8.f});
}

TEST(Conv, ThreeDimensionalSumsTheCube) {
  auto r = run_op("Conv", {make_tensor<float>({1, 1, 2, 2, 3}, iota_values(12)),
                           make_tensor<float>({1, 1, 2, 2, 2}, std::vector<float>(8, 1.f))});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // Windows start at w = 0 and w = 1: 1+2+4+5+7+8+10+11 = 48, and 48 + 8 = 56.
  expect_near(r.outputs[0], {1, 1, 1, 1, 2}, {48.f, 56.f});
}

TEST(Conv, SameUpperAndLowerPadOppositeEnds) {
  // Input 1..4, kernel [1, 10]: SAME needs one pad; UPPER puts it at the end, LOWER at the start.
  auto x = make_tensor<float>({1, 1, 4}, iota_values(4));
  auto w = make_tensor<float>({1, 1, 2}, {1.f, 10.f});
  auto upper = run_op("Conv", {x, w}, {{"auto_pad", std::string("SAME_UPPER")}});
  auto lower = run_op("Conv", {x, w}, {{"auto_pad", std::string("SAME_LOWER")}});
  ASSERT_TRUE(upper.status.is_ok()) << upper.status.to_string();
  ASSERT_TRUE(lower.status.is_ok()) << lower.status.to_string();
  expect_near(upper.outputs[0], {1, 1, 4}, {21.f, 32.f, 43.f, 4.f});
  expect_near(lower.outputs[0], {1, 1, 4}, {10.f, 21.f, 32.f, 43.f});
}

TEST(Conv, MatchesDirectConvolutionOnLargerShapes) {
  // Big enough for gemm's blocking (K = 16 * 9 > 128, N > 256), its row remainders (M = 6 per
  // group), the pointwise path and threads.
  struct Case {
    Ints xs, ws;
    int64_t group;
    Ints strides, dil, pads;
  };
  const std::vector<Case> cases = {{{1, 32, 20, 19}, {12, 16, 3, 3}, 2, {1, 1}, {1, 1}, {1, 1, 1, 1}},
                                   {{2, 6, 11, 9}, {9, 2, 3, 2}, 3, {2, 1}, {2, 1}, {0, 2, 1, 0}},
                                   {{1, 8, 17, 17}, {5, 8, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},
                                   // One group, large enough that im2col itself splits across threads.
                                   {{1, 32, 48, 48}, {8, 32, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}}};
  unsigned seed = 1;
  for (const Case& c : cases) {
    const auto x = random_values(shape_numel(c.xs), seed++);
    const auto w = random_values(shape_numel(c.ws), seed++);
    Ints ys;
    const auto expected = direct_conv2d(x, c.xs, w, c.ws, c.group, c.strides, c.dil, c.pads, ys);
    auto r = run_op("Conv", {make_tensor<float>(c.xs, x), make_tensor<float>(c.ws, w)},
                    {{"group", c.group}, {"strides", c.strides}, {"dilations", c.dil}, {"pads", c.pads}});
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    expect_near(r.outputs[0], ys, expected, 1e-4f);
  }
}

TEST(Conv, DoubleInputs) {
  auto r = run_op("Conv", {make_tensor<double>({1, 1, 2, 2}, {1, 2, 3, 4}), make_tensor<double>({1, 1, 1, 1}, {0.5})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(r.outputs[0]), (std::vector<double>{0.5, 1, 1.5, 2}));
}

TEST(Conv, RejectsChannelMismatch) {
  auto r = run_op("Conv", {make_tensor<float>({1, 3, 4, 4}, std::vector<float>(48)),
                           make_tensor<float>({1, 2, 3, 3}, std::vector<float>(18))});
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_NE(r.status.message().find("channels"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("test_Conv"), std::string::npos) << r.status.message();
}

TEST(Conv, RejectsBadAttributes) {
  auto x = make_tensor<float>({1, 1, 4, 4}, std::vector<float>(16));
  auto w = make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9));
  auto pads = run_op("Conv", {x, w}, {{"pads", Ints{1, 1}}});
  EXPECT_NE(pads.status.message().find("'pads'"), std::string::npos) << pads.status.message();
  auto kernel = run_op("Conv", {x, w}, {{"kernel_shape", Ints{2, 2}}});
  EXPECT_NE(kernel.status.message().find("kernel_shape"), std::string::npos) << kernel.status.message();
  auto auto_pad = run_op("Conv", {x, w}, {{"auto_pad", std::string("SAME")}});
  EXPECT_NE(auto_pad.status.message().find("auto_pad"), std::string::npos) << auto_pad.status.message();
  auto group = run_op("Conv", {x, w}, {{"group", int64_t{0}}});
  EXPECT_NE(group.status.message().find("group"), std::string::npos) << group.status.message();
  auto stride = run_op("Conv", {x, w}, {{"strides", Ints{1, 0}}});
  EXPECT_NE(stride.status.message().find("strides"), std::string::npos) << stride.status.message();
}

TEST(Conv, RejectsKernelLargerThanInputAndBadBias) {
  auto small = run_op("Conv", {make_tensor<float>({1, 1, 2, 2}, std::vector<float>(4)),
                               make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9))});
  ASSERT_FALSE(small.status.is_ok());
  EXPECT_NE(small.status.message().find("smaller than the kernel"), std::string::npos) << small.status.message();
  auto bias =
      run_op("Conv", {make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9)),
                      make_tensor<float>({2, 1, 1, 1}, std::vector<float>(2)), make_tensor<float>({3}, {1, 2, 3})});
  ASSERT_FALSE(bias.status.is_ok());
  EXPECT_NE(bias.status.message().find("bias"), std::string::npos) << bias.status.message();
}

TEST(ConvTranspose, StrideTwoCopiesKernelBlocks) {
  // Each input value scales a 2x2 block of ones; stride 2 keeps the blocks apart.
  auto r = run_op("ConvTranspose",
                  {make_tensor<float>({1, 1, 2, 2}, {1.f, 2.f, 3.f, 4.f}),
                   make_tensor<float>({1, 1, 2, 2}, std::vector<float>(4, 1.f))},
                  {{"strides", Ints{2, 2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST(ConvTranspose, OverlapsAddAndBiasApplies) {
  // 1-D: x = [1, 2], kernel [1, 1, 1], stride 1 -> [1, 3, 3, 2]; two output channels, bias 0 and 100.
  auto r = run_op("ConvTranspose", {make_tensor<float>({1, 1, 2}, {1.f, 2.f}),
                                    make_tensor<float>({1, 2, 3}, {1.f, 1.f, 1.f, 1.f, 0.f, 0.f}),
                                    make_tensor<float>({2}, {0.f, 100.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 4}, {1.f, 3.f, 3.f, 2.f, 101.f, 102.f, 100.f, 100.f});
}

TEST(ConvTranspose, PadsOutputPaddingAndOutputShape) {
  auto x = make_tensor<float>({1, 1, 2}, {1.f, 2.f});
  auto w = make_tensor<float>({1, 1, 3}, {1.f, 1.f, 1.f});
  // Full result [1, 1, 3, 2, 2] at stride 2; pads [1, 1] trim one each side.
  auto pads = run_op("ConvTranspose", {x, w}, {{"strides", Ints{2}}, {"pads", Ints{1, 1}}});
  ASSERT_TRUE(pads.status.is_ok()) << pads.status.to_string();
  expect_near(pads.outputs[0], {1, 1, 3}, {1.f, 3.f, 2.f});
  // output_padding adds a position at the end (it receives nothing).
  auto adj = run_op("ConvTranspose", {x, w}, {{"strides", Ints{2}}, {"output_padding", Ints{1}}});
  ASSERT_TRUE(adj.status.is_ok()) << adj.status.to_string();
  expect_near(adj.outputs[0], {1, 1, 6}, {1.f, 1.f, 3.f, 2.f, 2.f, 0.f});
  // output_shape 3 of a full 5: total padding 2, one each side.
  auto shape = run_op("ConvTranspose", {x, w}, {{"strides", Ints{2}}, {"output_shape", Ints{3}}});
  ASSERT_TRUE(shape.status.is_ok()) << shape.status.to_string();
  expect_near(shape.outputs[0], {1, 1, 3}, {1.f, 3.f, 2.f});
}

TEST(ConvTranspose, GroupsKeepChannelsApart) {
  // Two groups of one channel each, kernel [1] scaling by 2 and by 3.
  auto r = run_op("ConvTranspose",
                  {make_tensor<float>({1, 2, 2}, {1.f, 2.f, 3.f, 4.f}), make_tensor<float>({2, 1, 1}, {2.f, 3.f})},
                  {{"group", int64_t{2}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 2}, {2.f, 4.f, 9.f, 12.f});
}

TEST(ConvTranspose, RejectsWeightChannelMismatchAndBigOutputPadding) {
  auto bad = run_op("ConvTranspose", {make_tensor<float>({1, 2, 2}, std::vector<float>(4)),
                                      make_tensor<float>({3, 1, 1}, std::vector<float>(3))});
  ASSERT_FALSE(bad.status.is_ok());
  EXPECT_NE(bad.status.message().find("channels"), std::string::npos) << bad.status.message();
  auto adj = run_op(
      "ConvTranspose",
      {make_tensor<float>({1, 1, 2}, std::vector<float>(2)), make_tensor<float>({1, 1, 1}, std::vector<float>(1))},
      {{"output_padding", Ints{1}}});
  ASSERT_FALSE(adj.status.is_ok());
  EXPECT_NE(adj.status.message().find("output_padding"), std::string::npos) << adj.status.message();
}

TEST(ConvInteger, SubtractsZeroPoints) {
  // x - 10 = [-10..-7, ...]; per-output-channel w zero points [1, 2].
  auto r = run_op("ConvInteger",
                  {make_tensor<uint8_t>({1, 1, 2, 2}, {10, 11, 12, 13}), make_tensor<int8_t>({2, 1, 1, 1}, {3, 2}),
                   make_tensor<uint8_t>({}, {10}), make_tensor<int8_t>({2}, {1, 2})},
                  {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kInt32);
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{0, 2, 4, 6, 0, 0, 0, 0}));
}

TEST(ConvInteger, PaddingReadsTheZeroPoint) {
  // With x_zero_point 5, the padded border contributes (5 - 5) * w = 0.
  auto r = run_op("ConvInteger",
                  {make_tensor<uint8_t>({1, 1, 1, 1}, {7}), make_tensor<uint8_t>({1, 1, 1, 3}, {1, 1, 1}),
                   make_tensor<uint8_t>({}, {5})},
                  {{"pads", Ints{0, 1, 0, 1}}}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{2}));
}

TEST(ConvInteger, RejectsBadZeroPointAndFloat) {
  auto zp = run_op("ConvInteger",
                   {make_tensor<uint8_t>({1, 1, 2, 2}, {1, 2, 3, 4}), make_tensor<uint8_t>({1, 1, 1, 1}, {1}),
                    make_tensor<uint8_t>({2}, {1, 2})},
                   {}, 1, 10);
  ASSERT_FALSE(zp.status.is_ok());
  EXPECT_NE(zp.status.message().find("x_zero_point"), std::string::npos) << zp.status.message();
  auto fl = run_op("ConvInteger", {make_tensor<float>({1, 1, 1, 1}, {1.f}), make_tensor<float>({1, 1, 1, 1}, {1.f})},
                   {}, 1, 10);
  EXPECT_EQ(fl.status.code(), StatusCode::kUnimplemented) << fl.status.to_string();
}

}  // namespace
}  // namespace fulcrum::testing
