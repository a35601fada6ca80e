#include "passes/eliminate_dead.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

TEST(EliminateDead, RemovesChainsThatReachNoOutput) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {3});
  ir::Value* w = b.constant("w", random_floats({3}, 4));
  b.constant("unused", random_floats({3}, 5));
  ir::Value* s = b.node("Sigmoid", {x}, {"s"})->outputs[0];
  b.node("Mul", {s, w}, {"dead"});  // reads a live value but feeds nothing
  ir::Value* y = b.node("Relu", {x}, {"y"})->outputs[0];
  b.node("Tanh", {s}, {"t"});
  b.output(y);
  passes::EliminateDead pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({3}, 6)});
  const ir::Graph& g = b.graph();
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->op_type, "Relu");
  EXPECT_EQ(g.find_value("w"), nullptr);
  EXPECT_EQ(g.find_value("unused"), nullptr);
  EXPECT_EQ(g.find_value("s"), nullptr);
  ASSERT_EQ(g.inputs.size(), 1u);

  passes::PassContext ctx;
  auto again = pass.run(b.graph(), ctx);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again) << "a second run must find nothing to do";
}

TEST(EliminateDead, KeepsUnusedGraphInputsAndMultiOutputNodesWithOneLiveOutput) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 4});
  b.input("spare", DType::kFloat32, {1});
  ir::Value* split = b.constant("split", Tensor::from_vector<int64_t>(DType::kInt64, {2}, {2, 2}));
  ir::Node* n = b.node("Split", {x, split}, {"a", "b"}, {{"axis", int64_t{1}}});
  b.output(n->outputs[1]);
  passes::EliminateDead pass;
  passes::PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(b.graph().inputs.size(), 2u);
  EXPECT_EQ(b.graph().nodes().size(), 1u);
}

}  // namespace
}  // namespace fulcrum::testing
