// The CPU backend's Gemm and MatMul against the reference backend (tolerance:
// cpu_test_util.h).
#include "cpu_test_util.h"

namespace fulcrum::testing {
namespace {

TEST(CpuGemm, MatchesReference) {
  struct GemmCase {
    const char* name;
    Shape a, b, c;  // c empty: no C
    ops::Attributes attrs;
  };
  const std::vector<GemmCase> cases = {
      {"no bias", {5, 7}, {7, 3}, {}, {}},
      {"bias [N]", {3, 17}, {17, 9}, {9}, {}},
      {"transB, bias [1, N] (fully connected)", {2, 33}, {10, 33}, {1, 10}, {{"transB", int64_t{1}}}},
      {"alpha, beta, scalar C", {4, 6}, {6, 5}, {1}, {{"alpha", 0.5f}, {"beta", 2.0f}}},
      {"single row, 256 -> 1000", {1, 256}, {1000, 256}, {1000}, {{"transB", int64_t{1}}}},
  };
  uint32_t seed = 1;
  for (const GemmCase& c : cases) {
    SCOPED_TRACE(c.name);
    NodeSpec spec{"Gemm", {{random_tensor(c.a, seed)}, {random_tensor(c.b, seed + 1), true}}, c.attrs};
    if (!c.c.empty()) spec.inputs.push_back({random_tensor(c.c, seed + 2), true});
    seed += 10;
    expect_cpu_matches_reference(spec);
  }
}

TEST(CpuGemm, OtherCasesFallBackToReference) {
  // transA, a run-time B, and a C that is not a row vector.
  expect_cpu_matches_reference(
      {"Gemm", {{random_tensor({7, 5})}, {random_tensor({7, 3}, 1), true}}, {{"transA", int64_t{1}}}}, "reference");
  expect_cpu_matches_reference({"Gemm", {{random_tensor({5, 7})}, {random_tensor({7, 3}, 1)}}}, "reference");
  expect_cpu_matches_reference(
      {"Gemm", {{random_tensor({5, 7})}, {random_tensor({7, 3}, 1), true}, {random_tensor({5, 3}, 2), true}}},
      "reference");
}

TEST(CpuMatMul, ConstantWeightsMatchReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5, 7}, {7, 3}}, {{3, 5, 7}, {7, 9}}, {{2, 3, 4, 16}, {16, 33}}, {{7}, {7, 4}}, {{1, 128, 96}, {96, 200}}};
  uint32_t seed = 1;
  for (const auto& [a, b] : cases) {
    SCOPED_TRACE(shape_to_string(a) + " x " + shape_to_string(b));
    expect_cpu_matches_reference({"MatMul", {{random_tensor(a, seed)}, {random_tensor(b, seed + 1), true}}});
    seed += 10;
  }
}

TEST(CpuMatMul, RunTimeOperandsMatchReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5, 7}, {7, 3}},              // plain 2-D
      {{3, 5, 7}, {3, 7, 4}},        // batched
      {{2, 3, 9, 8}, {2, 3, 8, 9}},  // attention-like
      {{3, 1, 5, 6}, {4, 6, 2}},     // broadcast batch axes and ranks
      {{7}, {3, 7, 2}},              // 1-D A
      {{2, 5, 7}, {7}},              // 1-D B
      {{2, 5, 7}, {1, 7, 3}},        // size-1 batch of B
  };
  uint32_t seed = 1;
  for (const auto& [a, b] : cases) {
    SCOPED_TRACE(shape_to_string(a) + " x " + shape_to_string(b));
    expect_cpu_matches_reference({"MatMul", {{random_tensor(a, seed)}, {random_tensor(b, seed + 1)}}});
    seed += 10;
  }
}

// Weights packed for the declared rows must serve other row counts.
TEST(CpuMatMul, ServesSeveralRowCounts) {
  NodeSpec spec{"MatMul", {{random_tensor({1, 64})}, {random_tensor({64, 48}, 1), true}}};
  spec.symbolic_batch = true;
  std::vector<std::vector<Tensor>> runs;
  for (int64_t rows : {1, 37, 128, 2}) runs.push_back({random_tensor({rows, 64}, uint32_t(rows))});
  expect_cpu_serves_shapes(spec, runs);
}

TEST(CpuMatMul, OtherCasesFallBackToReference) {
  expect_cpu_matches_reference(
      {"MatMul", {{random_tensor({3, 4}, 0, DType::kFloat64)}, {random_tensor({4, 2}, 1, DType::kFloat64), true}}},
      "reference");
}

TEST(CpuMatMul, MismatchedShapesIsAnError) {
  NodeSpec spec{"MatMul", {{random_tensor({3, 4})}, {random_tensor({5, 2}, 1)}}};
  spec.declare_shapes = false;
  std::vector<Tensor> feeds;
  auto graph = one_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  auto out = exec->run(feeds);
  EXPECT_FALSE(out.is_ok());
}

}  // namespace
}  // namespace fulcrum::testing
