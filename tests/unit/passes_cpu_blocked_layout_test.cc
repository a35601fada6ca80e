#include "passes/cpu_blocked_layout.h"

#include <gtest/gtest.h>

#include "ops/fused.h"
#include "passes/fuse_epilogue.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

const ir::Node* find_node(const ir::Graph& g, const std::string& name) {
  for (const auto& n : g.nodes())
    if (n->name == name) return n.get();
  return nullptr;
}

const ops::FusedConvAttrs& conv_attrs(const ir::Graph& g, const std::string& name) {
  const ir::Node* n = find_node(g, name);
  EXPECT_NE(n, nullptr) << name << "\n" << ir::to_string(g);
  EXPECT_EQ(n->op_type, "FusedConv");
  return n->attrs_as<ops::FusedConvAttrs>();
}

// stem (C=3 -> 16) + Relu, MaxPool, depthwise conv + residual Add, 1x1 conv to 12 channels
// (not a multiple of 8), GlobalAveragePool of the blocked pool output, and a graph output
// read from a blocked tensor's plain reader.
TEST(CpuBlockedLayout, KeepsConvChainsBlockedAndReordersAtTheEdges) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {-1, 3, 8, 8});
  ir::Node* stem =
      b.node("Conv", {x, b.constant("w0", random_floats({16, 3, 3, 3}, 1))}, {"c0"}, {{"pads", Ints{1, 1, 1, 1}}});
  stem->name = "stem";
  ir::Value* r0 = typed(b.node("Relu", {typed(stem, {-1, 16, 8, 8})}, {"r0"}), {-1, 16, 8, 8});
  ir::Value* p0 =
      typed(b.node("MaxPool", {r0}, {"p0"}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}), {-1, 16, 4, 4});
  ir::Node* dw = b.node("Conv", {p0, b.constant("w1", random_floats({16, 1, 3, 3}, 2))}, {"c1"},
                        {{"group", int64_t{16}}, {"pads", Ints{1, 1, 1, 1}}});
  dw->name = "dw";
  ir::Value* s1 = typed(b.node("Add", {typed(dw, {-1, 16, 4, 4}), p0}, {"s1"}), {-1, 16, 4, 4});
  ir::Node* head = b.node("Conv", {s1, b.constant("w2", random_floats({12, 16, 1, 1}, 3))}, {"c2"});
  head->name = "head";
  b.output(typed(head, {-1, 12, 4, 4}));
  ir::Value* g = typed(b.node("GlobalAveragePool", {s1}, {"g"}), {-1, 16, 1, 1});
  b.output(g);
  b.output(typed(b.node("Sigmoid", {s1}, {"sig"}), {-1, 16, 4, 4}));  // not a conv: reads s1 plain
  passes::PassContext ctx;
  ASSERT_TRUE(passes::FuseEpilogue().run(b.graph(), ctx).is_ok());
  passes::CpuBlockedLayout pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3, 8, 8}, 4)});
  const ir::Graph& graph = b.graph();
  EXPECT_EQ(conv_attrs(graph, "stem").src_layout, ops::Layout::kNchw);
  EXPECT_EQ(conv_attrs(graph, "stem").dst_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(graph, "dw").src_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(graph, "dw").dst_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(graph, "head").src_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(graph, "head").dst_layout, ops::Layout::kNchw);  // 12 channels: NCHW
  EXPECT_EQ(count_ops(graph, "BlockedPool"), 2) << ir::to_string(graph);
  EXPECT_EQ(count_ops(graph, "ReorderFromBlocked"), 1);  // for the Sigmoid only
  EXPECT_EQ(count_ops(graph, "ReorderToBlocked"), 0);
  EXPECT_EQ(graph.find_value("s1")->type.to_string(), "float32[N, 2, 4, 4, 8]");
  EXPECT_EQ(graph.find_value("g")->type.to_string(), "float32[N, 16, 1, 1]");
  // A second run leaves the laid-out graph alone.
  auto again = pass.run(b.graph(), ctx);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again);
}

TEST(CpuBlockedLayout, PlainResidualOfABlockedConvIsReorderedIn) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 8, 5, 5});
  ir::Value* skip = b.input("skip", DType::kFloat32, {1, 16, 5, 5});
  ir::Node* conv =
      b.node("Conv", {x, b.constant("w", random_floats({16, 8, 3, 3}, 5))}, {"c"}, {{"pads", Ints{1, 1, 1, 1}}});
  ir::Value* s = typed(b.node("Add", {typed(conv, {1, 16, 5, 5}), skip}, {"s"}), {1, 16, 5, 5});
  ir::Node* out = b.node("Conv", {s, b.constant("w2", random_floats({8, 16, 1, 1}, 6))}, {"y"});
  b.output(typed(out, {1, 8, 5, 5}));
  passes::PassContext ctx;
  ASSERT_TRUE(passes::FuseEpilogue().run(b.graph(), ctx).is_ok());
  passes::CpuBlockedLayout pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 8, 5, 5}, 7), random_floats({1, 16, 5, 5}, 8)});
  EXPECT_EQ(count_ops(b.graph(), "ReorderToBlocked"), 1) << ir::to_string(b.graph());
  EXPECT_EQ(count_ops(b.graph(), "ReorderFromBlocked"), 0);
  EXPECT_EQ(count_ops(b.graph(), "FusedConv"), 2);
}

TEST(CpuBlockedLayout, TakesEightPerBlockWhereSixteenDoNotDivideTheChannels) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 16, 4, 4});
  ir::Node* c24 = b.node("Conv", {x, b.constant("w", random_floats({24, 16, 1, 1}, 9))}, {"c24"});
  ir::Node* c12 =
      b.node("Conv", {typed(c24, {1, 24, 4, 4}), b.constant("w2", random_floats({12, 24, 1, 1}, 10))}, {"c12"});
  b.output(typed(c12, {1, 12, 4, 4}));
  b.output(typed(b.node("Sigmoid", {c24->outputs[0]}, {"sig"}), {1, 24, 4, 4}));  // not a conv: no padding
  passes::CpuBlockedLayout pass(16);
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 16, 4, 4}, 11)});
  EXPECT_EQ(b.graph().find_value("c24")->type.to_string(), "float32[1, 3, 4, 4, 8]");
  EXPECT_EQ(conv_attrs(b.graph(), "Conv_0").dst_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(b.graph(), "Conv_1").src_layout, ops::Layout::kNchw8c);
  EXPECT_EQ(conv_attrs(b.graph(), "Conv_1").dst_layout, ops::Layout::kNchw);
  EXPECT_EQ(count_ops(b.graph(), "ReorderFromBlocked"), 1);
}

// Tensors only convolutions read are padded to whole blocks (24 -> 2 x 16), through a
// residual Add, but not when padding would add more than half (8 -> 16).
TEST(CpuBlockedLayout, PadsChannelsOnlyConvolutionsRead) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 16, 4, 4});
  ir::Node* a = b.node("Conv", {x, b.constant("w", random_floats({24, 16, 1, 1}, 12))}, {"a"});
  ir::Node* e = b.node("Conv", {typed(a, {1, 24, 4, 4}), b.constant("w1", random_floats({48, 24, 1, 1}, 13))}, {"e"});
  ir::Node* p = b.node("Conv", {typed(e, {1, 48, 4, 4}), b.constant("w2", random_floats({24, 48, 1, 1}, 14))}, {"p"});
  ir::Value* s = typed(b.node("Add", {typed(p, {1, 24, 4, 4}), a->outputs[0]}, {"s"}), {1, 24, 4, 4});
  ir::Node* c8 =
      b.node("Conv", {s, b.constant("w3", random_floats({8, 24, 3, 3}, 15))}, {"c8"}, {{"pads", Ints{1, 1, 1, 1}}});
  ir::Node* out = b.node("Conv", {typed(c8, {1, 8, 4, 4}), b.constant("w4", random_floats({16, 8, 1, 1}, 16))}, {"y"});
  b.output(typed(out, {1, 16, 4, 4}));
  passes::PassContext ctx;
  ASSERT_TRUE(passes::FuseEpilogue().run(b.graph(), ctx).is_ok());
  passes::CpuBlockedLayout pass(16);
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 16, 4, 4}, 17)});
  EXPECT_EQ(b.graph().find_value("a")->type.to_string(), "float32[1, 2, 4, 4, 16]");
  EXPECT_EQ(b.graph().find_value("s")->type.to_string(), "float32[1, 2, 4, 4, 16]");
  EXPECT_EQ(b.graph().find_value("c8")->type.to_string(), "float32[1, 1, 4, 4, 8]");
  EXPECT_EQ(count_ops(b.graph(), "ReorderFromBlocked"), 0) << ir::to_string(b.graph());
  EXPECT_EQ(count_ops(b.graph(), "ReorderToBlocked"), 0);
}

// A channel Concat of two blocked conv outputs and a plain input stays a Concat, on the
// 5-D tensors' block axis: the plain input is reordered in, nothing is reordered out.
TEST(CpuBlockedLayout, ConcatsBlockedTensorsAlongTheBlockAxis) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 16, 6, 6});
  ir::Value* skip = b.input("skip", DType::kFloat32, {1, 16, 6, 6});
  ir::Node* c1 = b.node("Conv", {x, b.constant("w1", random_floats({32, 16, 1, 1}, 20))}, {"c1"});
  ir::Node* c2 =
      b.node("Conv", {x, b.constant("w2", random_floats({16, 16, 3, 3}, 21))}, {"c2"}, {{"pads", Ints{1, 1, 1, 1}}});
  ir::Node* cat =
      b.node("Concat", {typed(c1, {1, 32, 6, 6}), typed(c2, {1, 16, 6, 6}), skip}, {"cat"}, {{"axis", int64_t{-3}}});
  ir::Node* out =
      b.node("Conv", {typed(cat, {1, 64, 6, 6}), b.constant("w3", random_floats({16, 64, 1, 1}, 22))}, {"y"});
  b.output(typed(out, {1, 16, 6, 6}));
  passes::CpuBlockedLayout pass(16);
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 16, 6, 6}, 23), random_floats({1, 16, 6, 6}, 24)});
  EXPECT_EQ(b.graph().find_value("cat")->type.to_string(), "float32[1, 4, 6, 6, 16]");
  EXPECT_EQ(count_ops(b.graph(), "ReorderToBlocked"), 1) << ir::to_string(b.graph());  // skip
  EXPECT_EQ(count_ops(b.graph(), "ReorderFromBlocked"), 0);
  EXPECT_EQ(conv_attrs(b.graph(), "Conv_3").src_layout, ops::Layout::kNchw16c);
}

}  // namespace
}  // namespace fulcrum::testing
