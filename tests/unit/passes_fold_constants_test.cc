#include "passes/fold_constants.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

TEST(FoldConstants, FoldsConstantSubgraphsAndStaticShapes) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3});
  ir::Value* c1 = b.constant("c1", random_floats({3}, 1));
  ir::Value* c2 = b.constant("c2", random_floats({3}, 2));
  ir::Value* sum = b.node("Add", {c1, c2}, {"sum"})->outputs[0];
  ir::Value* scale = b.node("Exp", {sum}, {"scale"})->outputs[0];  // foldable only after the Add
  ir::Value* y = b.node("Mul", {x, scale}, {"y"})->outputs[0];
  ir::Value* shape = b.node("Shape", {x}, {"shape"})->outputs[0];
  ir::Value* flat = b.constant("flat", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {-1}));
  ir::Value* flattened = b.node("Reshape", {y, flat}, {"flattened"})->outputs[0];
  b.output(b.node("Reshape", {flattened, shape}, {"out"})->outputs[0]);
  b.output(b.node("Size", {x}, {"size"})->outputs[0]);
  passes::FoldConstants pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3}, 3)});
  const ir::Graph& g = b.graph();
  ASSERT_EQ(g.nodes().size(), 3u) << ir::to_string(g);
  EXPECT_EQ(g.nodes()[0]->op_type, "Mul");
  ASSERT_TRUE(g.nodes()[0]->inputs[1]->is_constant());
  EXPECT_EQ(g.nodes()[0]->inputs[1]->name(), "scale");
  EXPECT_EQ(count_ops(g, "Shape"), 0);
  const ir::Value* folded_shape = g.find_value("shape");
  ASSERT_TRUE(folded_shape && folded_shape->is_constant());
  EXPECT_EQ(to_vector<int64_t>(folded_shape->constant), (Ints{2, 3}));
  const ir::Value* size = g.outputs[1];
  ASSERT_TRUE(size->is_constant());
  EXPECT_EQ(size->name(), "size");
  EXPECT_EQ(size->constant.data<int64_t>()[0], 6);
  EXPECT_EQ(g.find_value("c1"), nullptr) << "inputs of folded nodes should be dropped";
}

TEST(FoldConstants, ShapeWithStartEnd) {
  GraphBuilder b(15);
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3, 4, 5});
  b.output(b.node("Shape", {x}, {"s"}, {{"start", int64_t{1}}, {"end", int64_t{-1}}})->outputs[0]);
  passes::FoldConstants pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3, 4, 5}, 3)});
  ASSERT_TRUE(b.graph().outputs[0]->is_constant());
  EXPECT_EQ(to_vector<int64_t>(b.graph().outputs[0]->constant), (Ints{3, 4}));
}

TEST(FoldConstants, LeavesSymbolicShapesRandomOpsAndHugeResults) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {-1, 3});
  b.output(b.node("Shape", {x}, {"s"})->outputs[0]);
  // Training-mode Dropout of constants is random: never folded.
  ir::Value* c = b.constant("c", random_floats({8}, 4));
  ir::Value* ratio = b.constant("ratio", Tensor::from_vector<float>(DType::kFloat32, {}, {0.5f}));
  ir::Value* train = b.constant("train", Tensor::from_vector<bool>(DType::kBool, {}, {true}));
  b.output(b.node("Dropout", {c, ratio, train}, {"r"})->outputs[0]);
  ir::Value* big = b.constant("big", Tensor::from_vector<int64_t>(DType::kInt64, {2}, {64, 64}));
  b.output(b.node("ConstantOfShape", {big}, {"zeros"})->outputs[0]);
  ir::Value* small = b.constant("small", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {4}));
  b.output(b.node("ConstantOfShape", {small}, {"few"})->outputs[0]);
  passes::FoldConstants pass(/*max_output_bytes=*/1024);
  passes::PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  const ir::Graph& g = b.graph();
  EXPECT_TRUE(ir::verify(g).is_ok());
  ASSERT_EQ(g.nodes().size(), 3u) << ir::to_string(g);
  EXPECT_EQ(g.nodes()[0]->op_type, "Shape");
  EXPECT_EQ(g.nodes()[1]->op_type, "Dropout");
  EXPECT_EQ(g.nodes()[2]->op_type, "ConstantOfShape");
  ASSERT_TRUE(g.outputs[3]->is_constant());
  EXPECT_EQ(g.outputs[3]->constant.shape(), (Shape{4}));
}

}  // namespace
}  // namespace fulcrum::testing
