// The CPU backend's Conv against the reference backend (tolerance: cpu_test_util.h).
#include "cpu_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

struct ConvCase {
  const char* name;
  Shape x, w;
  ops::Attributes attrs;
  bool bias = true;
};

NodeSpec conv_spec(const ConvCase& c, uint32_t seed) {
  NodeSpec spec{"Conv", {{random_tensor(c.x, seed)}, {random_tensor(c.w, seed + 1), true}}, c.attrs};
  if (c.bias) spec.inputs.push_back({random_tensor({c.w[0]}, seed + 2), true});
  return spec;
}

TEST(CpuConv, MatchesReference) {
  const std::vector<ConvCase> cases = {
      {"3x3 pad 1, odd channels, batch 3", {3, 5, 11, 13}, {7, 5, 3, 3}, {{"pads", Ints{1, 1, 1, 1}}}},
      {"no bias", {1, 5, 9, 9}, {6, 5, 3, 3}, {}, false},
      {"stride 2, asymmetric pads", {2, 3, 12, 9}, {4, 3, 3, 3}, {{"strides", Ints{2, 2}}, {"pads", Ints{0, 1, 2, 1}}}},
      {"dilation 2", {1, 4, 15, 14}, {5, 4, 3, 3}, {{"dilations", Ints{2, 2}}, {"pads", Ints{2, 2, 2, 2}}}},
      {"groups 3", {2, 6, 10, 10}, {9, 2, 3, 3}, {{"group", int64_t{3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"depthwise stride 2",
       {3, 8, 13, 13},
       {8, 1, 3, 3},
       {{"group", int64_t{8}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"depthwise 32 channels (blocked)",
       {1, 32, 14, 14},
       {32, 1, 3, 3},
       {{"group", int64_t{32}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"1x1", {3, 17, 7, 5}, {33, 17, 1, 1}, {}},
      {"1x1 stride 2, 64 channels", {1, 64, 14, 14}, {128, 64, 1, 1}, {{"strides", Ints{2, 2}}}},
      {"7x7 stride 2 (stem)", {2, 3, 31, 29}, {16, 3, 7, 7}, {{"strides", Ints{2, 2}}, {"pads", Ints{3, 3, 3, 3}}}},
      {"3x3, 64 channels", {1, 64, 20, 20}, {64, 64, 3, 3}, {{"pads", Ints{1, 1, 1, 1}}}},
      {"non-square kernel", {1, 3, 10, 12}, {4, 3, 1, 5}, {{"pads", Ints{0, 2, 0, 2}}}},
      {"SAME_UPPER stride 2",
       {1, 3, 10, 11},
       {4, 3, 3, 3},
       {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}}},
      {"SAME_LOWER stride 2",
       {1, 3, 10, 11},
       {4, 3, 4, 4},
       {{"auto_pad", std::string("SAME_LOWER")}, {"strides", Ints{2, 2}}}},
      {"VALID", {1, 3, 10, 11}, {4, 3, 3, 3}, {{"auto_pad", std::string("VALID")}}},
  };
  uint32_t seed = 1;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    expect_cpu_matches_reference(conv_spec(c, seed += 10));
  }
}

TEST(CpuConv, UnknownShapesPackOnFirstRun) {
  ConvCase c{"", {2, 16, 9, 9}, {24, 16, 3, 3}, {{"pads", Ints{1, 1, 1, 1}}}};
  NodeSpec spec = conv_spec(c, 7);
  spec.declare_shapes = false;
  expect_cpu_matches_reference(spec);
}

// One kernel, several input shapes: each gets its own primitive; weights packed for the
// declared batch must serve (or be repacked for) the others. The second case takes the
// Winograd kernels (3x3, stride 1, 32+ channels; where the CPU has them), whose weights are
// packed per shape from W.
TEST(CpuConv, ServesSeveralBatchSizes) {
  for (int64_t channels : {16, 48}) {
    SCOPED_TRACE(channels);
    ConvCase c{"", {1, channels, 12, 12}, {32, channels, 3, 3}, {{"pads", Ints{1, 1, 1, 1}}}};
    NodeSpec spec = conv_spec(c, 3);
    spec.symbolic_batch = true;
    std::vector<std::vector<Tensor>> runs;
    for (int64_t batch : {1, 4, 1, 8}) runs.push_back({random_tensor({batch, channels, 12, 12}, uint32_t(batch))});
    expect_cpu_serves_shapes(spec, runs);
  }
}

TEST(CpuConv, WeightsAsRunTimeInput) {
  NodeSpec spec{"Conv", {{random_tensor({2, 6, 9, 9}, 1)}, {random_tensor({4, 3, 3, 3}, 2)}}, {{"group", int64_t{2}}}};
  expect_cpu_matches_reference(spec);
}

TEST(CpuConv, SingleThreadMatchesReference) {
  ConvCase c{"", {2, 16, 9, 9}, {24, 16, 3, 3}, {{"pads", Ints{1, 1, 1, 1}}}};
  std::vector<Tensor> feeds;
  auto graph = one_node_graph(conv_spec(c, 5), feeds);
  auto exec = cpu_executor(graph, 1);
  ASSERT_NE(exec, nullptr);
  expect_matches_reference(*exec, graph, feeds);
}

TEST(CpuConv, OtherCasesFallBackToReference) {
  // 1-D convolution (rank-3 X) and float64 are not the CPU backend's.
  expect_cpu_matches_reference({"Conv", {{random_tensor({2, 3, 10})}, {random_tensor({4, 3, 3}, 1), true}}},
                               "reference");
  expect_cpu_matches_reference(
      {"Conv",
       {{random_tensor({1, 3, 6, 6}, 0, DType::kFloat64)}, {random_tensor({4, 3, 3, 3}, 1, DType::kFloat64), true}}},
      "reference");
}

TEST(CpuConv, MismatchedChannelsIsAnError) {
  NodeSpec spec{"Conv", {{random_tensor({1, 5, 8, 8})}, {random_tensor({4, 3, 3, 3}, 1), true}}};
  spec.declare_shapes = false;
  std::vector<Tensor> feeds;
  auto graph = one_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(placed_on(*exec), "cpu");
  auto out = exec->run(feeds);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().to_string().find("node 'n0' (Conv)"), std::string::npos) << out.status().to_string();
}

}  // namespace
}  // namespace fulcrum::testing
