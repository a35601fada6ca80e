#include "passes/eliminate_identity.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

TEST(EliminateIdentity, RemovesIdentityDropoutAndSameTypeCast) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3});
  ir::Value* a = b.node("Identity", {x}, {"a"})->outputs[0];
  ir::Value* r = b.node("Relu", {a}, {"r"})->outputs[0];
  r->type.dtype = DType::kFloat32;  // what ONNX shape inference records on import
  ir::Value* d = b.node("Dropout", {r}, {"d"})->outputs[0];
  ir::Value* c = b.node("Cast", {r}, {"c"}, {{"to", int64_t{1}}})->outputs[0];
  ir::Value* sum = b.node("Add", {d, c}, {"sum"})->outputs[0];
  ir::Value* y = b.node("Identity", {sum}, {"y"})->outputs[0];
  b.output(y);
  passes::EliminateIdentity pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({2, 3}, 7)});
  const ir::Graph& g = b.graph();
  ASSERT_EQ(g.nodes().size(), 2u) << ir::to_string(g);
  EXPECT_EQ(g.nodes()[0]->op_type, "Relu");
  EXPECT_EQ(g.nodes()[0]->inputs[0], g.inputs[0]);
  // The Add now writes the graph output directly, under the output's name.
  EXPECT_EQ(g.nodes()[1]->op_type, "Add");
  EXPECT_EQ(g.nodes()[1]->inputs[0], g.nodes()[0]->outputs[0]);
  EXPECT_EQ(g.nodes()[1]->inputs[1], g.nodes()[0]->outputs[0]);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.outputs[0]->name(), "y");
  EXPECT_EQ(g.outputs[0]->producer, g.nodes()[1].get());
}

TEST(EliminateIdentity, KeepsWhatIsNotAnIdentity) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3});
  // Input copied to output: both names belong to the model.
  b.output(b.node("Identity", {x}, {"y"})->outputs[0]);
  // Dropout whose mask is read.
  ir::Node* drop = b.node("Dropout", {x}, {"d", "mask"});
  b.output(drop->outputs[0]);
  b.output(drop->outputs[1]);
  // Cast to another type; Cast from an unknown type.
  b.output(b.node("Cast", {x}, {"i"}, {{"to", int64_t{7}}})->outputs[0]);
  ir::Value* r = b.node("Relu", {x}, {"r"})->outputs[0];
  b.output(b.node("Cast", {r}, {"f"}, {{"to", int64_t{1}}})->outputs[0]);
  // Dropout forced into training mode.
  ir::Value* ratio = b.constant("ratio", Tensor::from_vector<float>(DType::kFloat32, {}, {0.5f}));
  ir::Value* train = b.constant("train", Tensor::from_vector<bool>(DType::kBool, {}, {true}));
  b.output(b.node("Dropout", {x, ratio, train}, {"t"})->outputs[0]);
  passes::EliminateIdentity pass;
  passes::PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(b.graph().nodes().size(), 6u);
}

TEST(EliminateIdentity, InferenceDropoutWithConstantFalseModeIsRemoved) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  ir::Value* ratio = b.constant("ratio", Tensor::from_vector<float>(DType::kFloat32, {}, {0.3f}));
  ir::Value* train = b.constant("train", Tensor::from_vector<bool>(DType::kBool, {}, {false}));
  ir::Value* d = b.node("Dropout", {x, ratio, train}, {"d", ""})->outputs[0];
  b.output(b.node("Neg", {d}, {"y"})->outputs[0]);
  passes::EliminateIdentity pass;
  run_pass_and_compare(pass, b.graph(), {random_floats({4}, 2)});
  ASSERT_EQ(b.graph().nodes().size(), 1u);
  EXPECT_EQ(b.graph().nodes()[0]->inputs[0], b.graph().inputs[0]);
  EXPECT_EQ(b.graph().find_value("train"), nullptr) << "the Dropout's constants should be dropped with it";
}

}  // namespace
}  // namespace fulcrum::testing
