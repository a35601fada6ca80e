#include "ir/graph_edit.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

// x -> Relu -> a -> Identity -> y (graph output), plus a constant c nothing reads.
struct Chain {
  GraphBuilder b;
  ir::Value *x, *a, *y, *c;
  Chain() {
    x = b.input("x", DType::kFloat32, {2, 3});
    c = b.constant("c", random_floats({3}, 1));
    a = b.node("Relu", {x}, {"a"})->outputs[0];
    y = b.node("Identity", {a}, {"y"})->outputs[0];
    b.output(y);
  }
};

TEST(GraphEdit, CloneSharesConstantStorage) {
  Chain ch;
  auto copy = ir::clone(ch.b.graph());
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(ir::verify(*copy).is_ok());
  ASSERT_EQ(copy->nodes().size(), 2u);
  EXPECT_NE(copy->nodes()[0].get(), ch.b.graph().nodes()[0].get());
  EXPECT_EQ(copy->find_value("c")->constant.raw(), ch.c->constant.raw());
  EXPECT_EQ(copy->outputs[0]->name(), "y");
  EXPECT_EQ(copy->outputs[0]->producer, copy->nodes()[1].get());
}

TEST(GraphEdit, Consumers) {
  Chain ch;
  auto users = ir::consumers(ch.b.graph(), ch.a);
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]->op_type, "Identity");
  EXPECT_TRUE(ir::consumers(ch.b.graph(), ch.y).empty());
}

TEST(GraphEdit, ReplaceKeepsGraphOutputName) {
  Chain ch;
  ir::Graph& g = ch.b.graph();
  auto replaced = ir::replace_all_uses(g, ch.y, ch.a);
  ASSERT_TRUE(replaced.is_ok());
  EXPECT_TRUE(*replaced);
  // Relu now writes y; the Identity reads y and writes a fresh unused value.
  EXPECT_EQ(g.nodes()[0]->outputs[0], ch.y);
  EXPECT_EQ(ch.y->producer, g.nodes()[0].get());
  EXPECT_EQ(g.nodes()[1]->inputs[0], ch.y);
  EXPECT_NE(g.nodes()[1]->outputs[0], ch.y);
  ASSERT_TRUE(ir::verify(g).is_ok());
  auto removed = ir::remove_dead_nodes(g);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(removed->nodes, 1u);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->op_type, "Relu");
  EXPECT_EQ(g.outputs[0]->name(), "y");
  EXPECT_EQ(g.find_value("c"), nullptr) << "unused constant kept";
  EXPECT_EQ(g.find_value("a"), nullptr) << "orphaned value kept";
  EXPECT_TRUE(ir::verify(g).is_ok());
}

TEST(GraphEdit, ReplaceRefusesGraphInputForGraphOutput) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2});
  ir::Value* y = b.node("Identity", {x}, {"y"})->outputs[0];
  b.output(y);
  auto replaced = ir::replace_all_uses(b.graph(), y, x);
  ASSERT_TRUE(replaced.is_ok());
  EXPECT_FALSE(*replaced);
  EXPECT_EQ(b.graph().nodes()[0]->outputs[0], y);
  EXPECT_TRUE(ir::verify(b.graph()).is_ok());
}

TEST(GraphEdit, ReplaceRefusesWhenBothAreGraphOutputs) {
  Chain ch;
  ch.b.output(ch.a);
  auto replaced = ir::replace_all_uses(ch.b.graph(), ch.y, ch.a);
  ASSERT_TRUE(replaced.is_ok());
  EXPECT_FALSE(*replaced);
  EXPECT_EQ(ch.y->producer->op_type, "Identity");
  EXPECT_EQ(ch.a->producer->op_type, "Relu");
}

TEST(GraphEdit, ReplaceGraphOutputByConstantMakesItConstant) {
  GraphBuilder b;
  ir::Value* c = b.constant("c", random_floats({4}, 3));
  ir::Value* y = b.node("Identity", {c}, {"y"})->outputs[0];
  b.output(y);
  auto before = run_graph(b.graph(), {});
  auto replaced = ir::replace_all_uses(b.graph(), y, c);
  ASSERT_TRUE(replaced.is_ok() && *replaced);
  EXPECT_TRUE(y->is_constant());
  ASSERT_TRUE(ir::remove_dead_nodes(b.graph()).is_ok());
  EXPECT_TRUE(b.graph().nodes().empty());
  auto after = run_graph(b.graph(), {});
  ASSERT_EQ(after.size(), 1u);
  expect_all_close(after[0], before[0], 0);
}

TEST(GraphEdit, ReplaceInnerValueRewiresReaders) {
  Chain ch;
  ir::Graph& g = ch.b.graph();
  auto replaced = ir::replace_all_uses(g, ch.a, ch.x);
  ASSERT_TRUE(replaced.is_ok() && *replaced);
  EXPECT_EQ(g.nodes()[1]->inputs[0], ch.x);
  ASSERT_TRUE(ir::remove_dead_nodes(g).is_ok());
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->op_type, "Identity");
}

TEST(GraphEdit, RemoveNodesIfDropsOnlyUnreferencedValues) {
  Chain ch;
  ir::Graph& g = ch.b.graph();
  auto removed = ir::remove_nodes_if(g, [](const ir::Node&) { return false; });
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(removed->nodes, 0u);
  EXPECT_EQ(removed->values, 1u);  // the unused constant
  EXPECT_EQ(g.nodes().size(), 2u);
  ASSERT_NE(g.find_value("x"), nullptr);
  EXPECT_EQ(g.inputs[0], g.find_value("x"));
  EXPECT_TRUE(ir::verify(g).is_ok());
}

}  // namespace
}  // namespace fulcrum::testing
