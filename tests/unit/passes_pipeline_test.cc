// The pass driver (fixed point, cap, verification) and the default FP32 pipeline on a small
// model with the patterns the zoo has: Conv+BN, Identity/Dropout, a shape subgraph.
#include <gtest/gtest.h>

#include "core/error.h"
#include "passes/pass.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

class AlwaysChanges : public passes::Pass {
 public:
  std::string_view name() const override { return "always_changes"; }
  Result<bool> run(ir::Graph&, passes::PassContext&) override { return true; }
};

class BreaksGraph : public passes::Pass {
 public:
  std::string_view name() const override { return "breaks_graph"; }
  Result<bool> run(ir::Graph& g, passes::PassContext&) override {
    g.nodes()[0]->inputs[0] = *g.add_value("nowhere");
    return true;
  }
};

class Fails : public passes::Pass {
 public:
  std::string_view name() const override { return "fails"; }
  Result<bool> run(ir::Graph&, passes::PassContext&) override { return invalid_argument("tensor 't' is odd"); }
};

std::unique_ptr<GraphBuilder> relu_graph() {
  auto b = std::make_unique<GraphBuilder>();
  ir::Value* x = b->input("x", DType::kFloat32, {2});
  b->output(b->node("Relu", {x}, {"y"})->outputs[0]);
  return b;
}

TEST(RunPasses, StopsAtTheRoundCap) {
  auto b = relu_graph();
  std::vector<std::unique_ptr<passes::Pass>> list;
  list.push_back(std::make_unique<AlwaysChanges>());
  passes::PassContext ctx;
  auto stats = passes::run_passes(b->graph(), list, ctx, 3);
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(stats->rounds, 3);
  EXPECT_FALSE(stats->reached_fixed_point);
  EXPECT_EQ(stats->changes["always_changes"], 3);
}

TEST(RunPasses, NamesThePassThatBreaksTheGraph) {
  auto b = relu_graph();
  std::vector<std::unique_ptr<passes::Pass>> list;
  list.push_back(std::make_unique<BreaksGraph>());
  passes::PassContext ctx;
  auto stats = passes::run_passes(b->graph(), list, ctx);
  ASSERT_FALSE(stats.is_ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kInternal);
  EXPECT_NE(stats.status().message().find("breaks_graph"), std::string::npos) << stats.status().message();
  EXPECT_NE(stats.status().message().find("nowhere"), std::string::npos) << stats.status().message();
}

TEST(RunPasses, PassErrorsNameThePass) {
  auto b = relu_graph();
  std::vector<std::unique_ptr<passes::Pass>> list;
  list.push_back(std::make_unique<Fails>());
  passes::PassContext ctx;
  auto stats = passes::run_passes(b->graph(), list, ctx);
  ASSERT_FALSE(stats.is_ok());
  EXPECT_NE(stats.status().message().find("fails"), std::string::npos);
  EXPECT_NE(stats.status().message().find("'t'"), std::string::npos);
}

TEST(DefaultFp32Passes, SimplifiesASmallConvNet) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 3, 8, 8});
  ir::Value* in = b.node("Identity", {x}, {"in"})->outputs[0];
  ir::Value* w = b.constant("w", random_floats({4, 3, 3, 3}, 1));
  ir::Value* c = b.node("Conv", {in, w}, {"c"}, {{"pads", Ints{1, 1, 1, 1}}})->outputs[0];
  c->type.dtype = DType::kFloat32;
  c->type.dims = std::vector<ir::Dim>{{1, ""}, {4, ""}, {8, ""}, {8, ""}};
  std::vector<ir::Value*> bn_in = {c};
  for (const char* name : {"gamma", "beta", "mean", "var"})
    bn_in.push_back(b.constant(name, random_floats({4}, 2, 0.5f, 1.5f)));
  ir::Value* bn = b.node("BatchNormalization", bn_in, {"bn"})->outputs[0];
  ir::Value* r = b.node("Relu", {bn}, {"r"})->outputs[0];
  ir::Value* d = b.node("Dropout", {r}, {"d"})->outputs[0];
  // Flatten to (N, -1) the way exporters spell it: Shape -> Gather -> Unsqueeze -> Concat.
  ir::Value* shape = b.node("Shape", {c}, {"shape"})->outputs[0];
  ir::Value* zero = b.constant("zero", Tensor::from_vector<int64_t>(DType::kInt64, {}, {0}));
  ir::Value* n = b.node("Gather", {shape, zero}, {"n"})->outputs[0];
  ir::Value* axes = b.constant("axes", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {0}));
  ir::Value* n1 = b.node("Unsqueeze", {n, axes}, {"n1"})->outputs[0];
  ir::Value* minus1 = b.constant("minus1", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {-1}));
  ir::Value* target = b.node("Concat", {n1, minus1}, {"target"}, {{"axis", int64_t{0}}})->outputs[0];
  ir::Value* flat = b.node("Reshape", {d, target}, {"flat"})->outputs[0];
  b.output(b.node("Identity", {flat}, {"y"})->outputs[0]);
  b.node("Sigmoid", {r}, {"unused"});

  const std::vector<Tensor> inputs = {random_floats({1, 3, 8, 8}, 9)};
  const std::vector<Tensor> before = run_graph(b.graph(), inputs);
  auto list = passes::default_fp32_passes();
  passes::PassContext ctx;
  auto stats = passes::run_passes(b.graph(), list, ctx);
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_TRUE(stats->reached_fixed_point);
  EXPECT_EQ(stats->nodes_before, 12u);
  EXPECT_EQ(ctx.counters["fold_batchnorm"]["batchnorms folded"], 1);
  EXPECT_EQ(ctx.counters["eliminate_identity"]["nodes removed"], 3);
  EXPECT_EQ(ctx.counters["fold_constants"]["shapes folded"], 1);
  const ir::Graph& g = b.graph();
  ASSERT_EQ(g.nodes().size(), 3u) << ir::to_string(g);
  EXPECT_EQ(g.nodes()[0]->op_type, "Conv");
  EXPECT_EQ(g.nodes()[1]->op_type, "Relu");
  EXPECT_EQ(g.nodes()[2]->op_type, "Reshape");
  EXPECT_TRUE(g.nodes()[2]->inputs[1]->is_constant());
  EXPECT_EQ(g.outputs[0]->name(), "y");
  const std::vector<Tensor> after = run_graph(g, inputs);
  ASSERT_EQ(after.size(), 1u);
  expect_all_close(after[0], before[0], 1e-4f);
}

}  // namespace
}  // namespace fulcrum::testing
