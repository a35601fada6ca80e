#include "passes/fuse_epilogue.h"

#include <gtest/gtest.h>

#include "ops/elementwise.h"
#include "ops/fused.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

std::vector<std::string> post_op_names(const ir::Node& n) {
  const ops::Epilogue& e = n.op_type == "FusedConv" ? n.attrs_as<ops::FusedConvAttrs>().epilogue
                                                    : n.attrs_as<ops::FusedMatMulAttrs>().epilogue;
  std::vector<std::string> names;
  for (const auto& op : e.post_ops) names.push_back(op.qualified_name());
  return names;
}

const ir::Node& only_node(const ir::Graph& g) {
  EXPECT_EQ(g.nodes().size(), 1u) << ir::to_string(g);
  return *g.nodes()[0];
}

TEST(FuseEpilogue, ConvReluResidualAddReluIsOneNode) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 4, 5, 5});
  ir::Value* w = b.constant("w", random_floats({4, 4, 3, 3}, 1));
  ir::Value* bias = b.constant("b", random_floats({4}, 2));
  ir::Node* conv = b.node("Conv", {x, w, bias}, {"c"}, {{"pads", Ints{1, 1, 1, 1}}});
  conv->name = "layer1.conv";
  ir::Value* c = typed(conv, {1, 4, 5, 5});
  ir::Value* r = typed(b.node("Relu", {c}, {"r"}), {1, 4, 5, 5});
  ir::Value* s = typed(b.node("Add", {x, r}, {"s"}), {1, 4, 5, 5});  // the residual reads x first
  b.output(typed(b.node("Relu", {s}, {"y"}), {1, 4, 5, 5}));
  passes::FuseEpilogue pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 4, 5, 5}, 3)});
  const ir::Node& n = only_node(b.graph());
  EXPECT_EQ(n.op_type, "FusedConv");
  EXPECT_EQ(n.domain, "fulcrum");
  EXPECT_EQ(n.name, "layer1.conv");
  EXPECT_EQ(n.outputs[0]->name(), "y");
  EXPECT_EQ(post_op_names(n), (std::vector<std::string>{"Relu", "Add", "Relu"}));
  ASSERT_EQ(n.inputs.size(), 4u);
  EXPECT_EQ(n.inputs[3]->name(), "x");
  EXPECT_EQ(n.attrs_as<ops::FusedConvAttrs>().epilogue.post_ops[1].input, 3);
  EXPECT_EQ(n.attrs_as<ops::FusedConvAttrs>().pads, (Ints{1, 1, 1, 1}));
}

TEST(FuseEpilogue, SiluAndClipBoundsBecomePostOps) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3, 4, 4});
  ir::Value* w = b.constant("w", random_floats({6, 1, 3, 3}, 4));
  ir::Value* c =
      typed(b.node("Conv", {x, w}, {"c"}, {{"group", int64_t{3}}, {"pads", Ints{1, 1, 1, 1}}}), {2, 6, 4, 4});
  ir::Value* sig = typed(b.node("Sigmoid", {c}, {"sig"}), {2, 6, 4, 4});
  ir::Value* silu = typed(b.node("Mul", {sig, c}, {"silu"}), {2, 6, 4, 4});
  ir::Value* lo = b.constant("lo", Tensor::from_vector<float>(DType::kFloat32, {}, {0.0f}));
  ir::Value* hi = b.constant("hi", Tensor::from_vector<float>(DType::kFloat32, {}, {0.25f}));
  b.output(typed(b.node("Clip", {silu, lo, hi}, {"y"}), {2, 6, 4, 4}));
  passes::FuseEpilogue pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3, 4, 4}, 5, -3.0f, 3.0f)});
  const ir::Node& n = only_node(b.graph());
  EXPECT_EQ(post_op_names(n), (std::vector<std::string>{"fulcrum.Silu", "Clip"}));
  const ops::PostOp& clip = n.attrs_as<ops::FusedConvAttrs>().epilogue.post_ops[1];
  EXPECT_EQ(clip.opset, 6);  // bounds as attributes
  EXPECT_EQ(n.inputs.size(), 3u);
}

TEST(FuseEpilogue, MatMulBiasAndGemmActivation) {
  GraphBuilder b(13);
  ir::Value* a = b.input("a", DType::kFloat32, {-1, 3, 8});
  ir::Value* w = b.constant("w", random_floats({8, 5}, 6));
  ir::Value* m = typed(b.node("MatMul", {a, w}, {"m"}), {-1, 3, 5});
  ir::Value* biased = typed(b.node("Add", {m, b.constant("bias", random_floats({5}, 7))}, {"biased"}), {-1, 3, 5});
  b.output(typed(b.node("Tanh", {biased}, {"y"}), {-1, 3, 5}));
  ir::Value* a2 = b.input("a2", DType::kFloat32, {4, 8});
  ir::Value* g =
      typed(b.node("Gemm", {a2, w, b.constant("c", random_floats({5}, 8))}, {"g"}, {{"alpha", 0.5f}}), {4, 5});
  b.output(typed(b.node("LeakyRelu", {g}, {"y2"}, {{"alpha", 0.2f}}), {4, 5}));
  passes::FuseEpilogue pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3, 8}, 9), random_floats({4, 8}, 10)});
  const ir::Graph& graph = b.graph();
  ASSERT_EQ(graph.nodes().size(), 2u) << ir::to_string(graph);
  const ir::Node& mm = *graph.nodes()[0];
  const ir::Node& gemm = *graph.nodes()[1];
  EXPECT_EQ(post_op_names(mm), (std::vector<std::string>{"Add", "Tanh"}));
  EXPECT_FALSE(mm.attrs_as<ops::FusedMatMulAttrs>().gemm);
  EXPECT_EQ(post_op_names(gemm), (std::vector<std::string>{"LeakyRelu"}));
  EXPECT_TRUE(gemm.attrs_as<ops::FusedMatMulAttrs>().gemm);
  EXPECT_FLOAT_EQ(gemm.attrs_as<ops::FusedMatMulAttrs>().alpha, 0.5f);
  EXPECT_FLOAT_EQ(
      static_cast<const ops::ActivationAttrs&>(*gemm.attrs_as<ops::FusedMatMulAttrs>().epilogue.post_ops[0].typed)
          .alpha,
      0.2f);
}

TEST(FuseEpilogue, LeavesSharedWideningAndGraphOutputTensorsAlone) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 2, 3, 3});
  ir::Value* w = b.constant("w", random_floats({2, 2, 1, 1}, 11));
  // c1 is read twice; c2 is a graph output; c3's Add broadcasts it to a wider shape.
  ir::Value* c1 = typed(b.node("Conv", {x, w}, {"c1"}), {1, 2, 3, 3});
  b.output(typed(b.node("Relu", {c1}, {"r1"}), {1, 2, 3, 3}));
  b.output(typed(b.node("Sigmoid", {c1}, {"s1"}), {1, 2, 3, 3}));
  ir::Value* c2 = typed(b.node("Conv", {x, w}, {"c2"}), {1, 2, 3, 3});
  b.output(c2);
  b.output(typed(b.node("Relu", {c2}, {"r2"}), {1, 2, 3, 3}));
  ir::Value* c3 = typed(b.node("Conv", {x, w}, {"c3"}), {1, 2, 3, 3});
  ir::Value* wide = b.input("wide", DType::kFloat32, {2, 2, 3, 3});
  b.output(typed(b.node("Add", {c3, wide}, {"y3"}), {2, 2, 3, 3}));
  passes::PassContext ctx;
  auto changed = passes::FuseEpilogue().run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_FALSE(*changed) << ir::to_string(b.graph());
  EXPECT_EQ(count_ops(b.graph(), "Conv"), 3);
}

TEST(FuseEpilogue, FusedAttributesRoundTripThroughTheirRawForm) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 2, 4, 4});
  ir::Value* w = b.constant("w", random_floats({2, 2, 3, 3}, 12));
  ir::Value* c = typed(b.node("Conv", {x, w}, {"c"}, {{"strides", Ints{2, 2}}}), {1, 2, 1, 1});
  b.output(typed(b.node("HardSigmoid", {c}, {"y"}, {{"alpha", 0.3f}, {"beta", 0.4f}}), {1, 2, 1, 1}));
  passes::FuseEpilogue pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({1, 2, 4, 4}, 13)});
  ir::Node copy = only_node(b.graph());
  copy.typed_attrs = nullptr;
  ASSERT_TRUE(copy.parse_attributes().is_ok());
  const auto& a = copy.attrs_as<ops::FusedConvAttrs>();
  EXPECT_EQ(a.strides, (Ints{2, 2}));
  ASSERT_EQ(a.epilogue.post_ops.size(), 1u);
  EXPECT_FLOAT_EQ(static_cast<const ops::ActivationAttrs&>(*a.epilogue.post_ops[0].typed).alpha, 0.3f);
  // A raw form that names a non-fusable post-op is an error naming it.
  copy.attrs["post_ops"] = std::vector<std::string>{"Softmax"};
  Status bad = copy.parse_attributes();
  EXPECT_FALSE(bad.is_ok());
  EXPECT_NE(bad.to_string().find("Softmax"), std::string::npos) << bad.to_string();
}

}  // namespace
}  // namespace fulcrum::testing
