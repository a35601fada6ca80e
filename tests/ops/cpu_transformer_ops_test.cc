// The CPU backend's Softmax, LayerNormalization, Transpose and fulcrum.Gelu kernels against
// the reference backend, on BERT's shapes and on odd ones (rows shorter than a vector,
// lengths that leave a remainder), and the cases they hand back to the reference.
#include "cpu_test_util.h"
#include "ops/softmax.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

// Values spread over [-scale, scale], so exp and erf see their whole useful range.
Tensor spread(Shape shape, uint32_t seed, float scale) {
  Tensor t = random_tensor(std::move(shape), seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] *= scale;
  return t;
}

TEST(CpuSoftmax, LastAxisOnRandomAndOddShapes) {
  uint32_t seed = 1;
  for (const Shape& shape : {Shape{1, 12, 128, 128}, Shape{3, 5}, Shape{7, 1}, Shape{2, 3, 37}, Shape{19}}) {
    SCOPED_TRACE(shape_to_string(shape));
    expect_cpu_matches_reference({"Softmax", {{spread(shape, seed++, 20.0f)}}});
    expect_cpu_matches_reference({"Softmax", {{spread(shape, seed++, 3.0f)}}, {{"axis", int64_t{-1}}}});
  }
}

TEST(CpuSoftmax, LargeNegativeMaskValuesGiveZeros) {
  Tensor x = random_tensor({2, 40}, 5);
  for (int64_t i = 20; i < 40; ++i) x.mutable_data<float>()[i] = -3.4e38f;  // an additive mask
  x.mutable_data<float>()[40 + 3] = -INFINITY;
  expect_cpu_matches_reference({"Softmax", {{x}}});
}

TEST(CpuSoftmax, BeforeOpset13TheTrailingAxesFormTheRow) {
  for (int64_t axis : {int64_t{1}, int64_t{2}, int64_t{-1}}) {
    SCOPED_TRACE(axis);
    std::vector<Tensor> feeds;
    auto graph = one_node_graph({"Softmax", {{spread({2, 3, 5}, 11, 4.0f)}}, {{"axis", axis}}}, feeds);
    ir::Node& node = *graph->nodes()[0];
    node.opset = 11;
    graph->opsets[""] = 11;
    ASSERT_TRUE(node.parse_attributes().is_ok());
    ASSERT_TRUE(node.attrs_as<ops::SoftmaxAttrs>().coerce_2d);
    auto exec = cpu_executor(graph);
    ASSERT_NE(exec, nullptr);
    EXPECT_EQ(placed_on(*exec), "cpu");
    expect_matches_reference(*exec, graph, feeds);
  }
}

TEST(CpuSoftmax, OtherAxesAreTheReferences) {
  // Opset 13 semantics (the test graphs are opset 17): a middle axis is not a row.
  expect_cpu_matches_reference({"Softmax", {{random_tensor({2, 3, 4}, 9)}}, {{"axis", int64_t{1}}}}, "cpu");
}

TEST(CpuLayerNorm, LastAxisWithAndWithoutBias) {
  uint32_t seed = 20;
  for (const Shape& shape : {Shape{1, 128, 768}, Shape{3, 17}, Shape{5, 1}, Shape{2, 3, 33}}) {
    SCOPED_TRACE(shape_to_string(shape));
    const int64_t n = shape.back();
    Tensor x = spread(shape, seed++, 4.0f);
    for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<float>()[i] += 10.0f;  // a large mean
    expect_cpu_matches_reference({"LayerNormalization",
                                  {{x}, {random_tensor({n}, seed++), true}, {random_tensor({n}, seed++), true}},
                                  {{"epsilon", 1e-12f}}});
    expect_cpu_matches_reference({"LayerNormalization", {{x}, {random_tensor({n}, seed++)}}});
  }
}

TEST(CpuLayerNorm, SeveralTrailingAxes) {
  expect_cpu_matches_reference({"LayerNormalization",
                                {{random_tensor({2, 3, 4, 5}, 40)}, {random_tensor({4, 5}, 41), true}},
                                {{"axis", int64_t{2}}}});
}

TEST(CpuLayerNorm, MeanOutputGoesToTheReference) {
  expect_cpu_matches_reference(
      {"LayerNormalization", {{random_tensor({3, 8}, 42)}, {random_tensor({8}, 43), true}}, {}, 3}, "reference");
}

TEST(CpuTranspose, BertPermutationsAndGeneralOnes) {
  uint32_t seed = 50;
  struct Case {
    Shape shape;
    Ints perm;
  };
  for (const Case& c : {Case{{1, 128, 12, 64}, {0, 2, 1, 3}}, Case{{2, 128, 12, 64}, {0, 2, 3, 1}},
                        Case{{2, 12, 128, 64}, {0, 2, 1, 3}}, Case{{3, 5, 7}, {2, 0, 1}}, Case{{3, 5, 7}, {1, 2, 0}},
                        Case{{4, 1, 6}, {2, 1, 0}}, Case{{17, 33}, {1, 0}}, Case{{2, 3, 4, 5, 6}, {4, 2, 0, 3, 1}},
                        Case{{1, 1, 5}, {2, 0, 1}}, Case{{6}, {0}}}) {
    SCOPED_TRACE(shape_to_string(c.shape));
    expect_cpu_matches_reference({"Transpose", {{random_tensor(c.shape, seed++)}}, {{"perm", c.perm}}});
  }
  expect_cpu_matches_reference({"Transpose", {{random_tensor({3, 4, 5}, seed++)}}});  // reversed axes
}

TEST(CpuTranspose, IntegerElementsMoveExactly) {
  Tensor x = Tensor::zeros(DType::kInt64, {3, 4, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<int64_t>()[i] = i * 1000003;
  std::vector<Tensor> feeds;
  auto graph = one_node_graph({"Transpose", {{x}}, {{"perm", Ints{2, 0, 1}}}}, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(placed_on(*exec), "cpu");
  auto out = exec->run(feeds);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), (Shape{5, 3, 4}));
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        EXPECT_EQ(y.data<int64_t>()[(k * 3 + i) * 4 + j], ((i * 4 + j) * 5 + k) * 1000003);
}

// A graph of one fulcrum.Gelu node (one_node_graph builds default-domain nodes).
std::shared_ptr<ir::Graph> gelu_graph(const Tensor& x) {
  auto graph = std::make_shared<ir::Graph>();
  graph->opsets[""] = 17;
  graph->opsets["fulcrum"] = 1;
  ir::Value* in = *graph->add_value("x");
  in->type.dtype = DType::kFloat32;
  graph->inputs.push_back(in);
  auto node = std::make_unique<ir::Node>();
  node->name = "gelu";
  node->op_type = "Gelu";
  node->domain = "fulcrum";
  node->opset = 1;
  node->inputs = {in};
  node->outputs = {*graph->add_value("y")};
  EXPECT_TRUE(node->parse_attributes().is_ok());
  ir::Node* n = graph->add_node(std::move(node));
  n->outputs[0]->producer = n;
  graph->outputs.push_back(n->outputs[0]);
  return graph;
}

TEST(CpuGelu, MatchesTheErfFormula) {
  for (const Shape& shape : {Shape{1, 128, 3072}, Shape{3, 7}, Shape{1}}) {
    SCOPED_TRACE(shape_to_string(shape));
    const std::vector<Tensor> feeds = {spread(shape, 60, 6.0f)};
    auto graph = gelu_graph(feeds[0]);
    auto exec = cpu_executor(graph);
    ASSERT_NE(exec, nullptr);
    EXPECT_EQ(placed_on(*exec), "cpu");
    expect_matches_reference(*exec, graph, feeds);
  }
}

TEST(CpuUnary, ErfAndSqrt) {
  expect_cpu_matches_reference({"Erf", {{spread({4, 33}, 70, 5.0f)}}});
  Tensor x = random_tensor({5, 9}, 71);
  for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<float>()[i] = std::fabs(x.data<float>()[i]) * 9.0f;
  expect_cpu_matches_reference({"Sqrt", {{x}}});
}

TEST(CpuBroadcast, BinaryOpsOnBroadcastShapes) {
  uint32_t seed = 80;
  struct Case {
    Shape a, b;
  };
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"}) {
    for (const Case& c : {Case{{2, 128, 768}, {768}}, Case{{768}, {1, 16, 768}}, Case{{1, 12, 16, 16}, {1, 1, 1, 16}},
                          Case{{2, 1, 5}, {3, 1}}, Case{{4, 1}, {1, 6}}, Case{{2, 3, 4, 5}, {3, 1, 1}},
                          Case{{2, 3, 4, 5}, {2, 1, 4, 1}}, Case{{1}, {3, 2}}, Case{{3, 1, 2}, {3, 4, 2}}}) {
      SCOPED_TRACE(std::string(op) + " " + shape_to_string(c.a) + " " + shape_to_string(c.b));
      Tensor a = random_tensor(c.a, seed++), b = random_tensor(c.b, seed++);
      if (std::string(op) == "Pow")  // a positive base keeps fractional powers real
        for (int64_t i = 0; i < a.numel(); ++i) a.mutable_data<float>()[i] = std::fabs(a.data<float>()[i]) + 0.1f;
      if (std::string(op) == "Div")  // divisors away from zero
        for (int64_t i = 0; i < b.numel(); ++i) b.mutable_data<float>()[i] += b.data<float>()[i] < 0 ? -0.5f : 0.5f;
      expect_cpu_matches_reference({op, {{a}, {b}}});
      expect_cpu_matches_reference({op, {{a}, {b, true}}});
    }
  }
}

TEST(CpuBroadcast, OneLongRowIsSplitAcrossThreads) {
  // Same shapes merge into a single row; so does a tensor and a scalar. Long enough that
  // both threads take column ranges of it.
  expect_cpu_matches_reference({"Add", {{random_tensor({3, 70001}, 95)}, {random_tensor({3, 70001}, 96)}}});
  expect_cpu_matches_reference({"Mul", {{random_tensor({1}, 97)}, {random_tensor({2, 100003}, 98)}}});
}

TEST(CpuBroadcast, PowByTwoAndShapesThatDoNotBroadcast) {
  Tensor two = Tensor::zeros(DType::kFloat32, {});
  two.mutable_data<float>()[0] = 2.0f;
  expect_cpu_matches_reference({"Pow", {{random_tensor({3, 7}, 90)}, {two, true}}});
  // [3, 4] and [5] do not broadcast: the reference kernel reports it.
  std::vector<Tensor> feeds;
  auto graph = one_node_graph({"Add", {{random_tensor({3, 4}, 91)}, {random_tensor({5}, 92)}}}, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_FALSE(exec->run(feeds).is_ok());
}

}  // namespace
}  // namespace fulcrum::testing
