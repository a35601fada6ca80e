#include "passes/fold_batchnorm.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

struct ConvBn {
  GraphBuilder b{13};
  ir::Value *x, *w, *conv_out, *y;
  Tensor w_before;
  ConvBn(bool with_bias, int64_t group = 1) {
    x = b.input("x", DType::kFloat32, {1, 4, 6, 6});
    w = b.constant("w", random_floats({6, 4 / group, 3, 3}, 11));
    w_before = w->constant.clone();
    std::vector<ir::Value*> conv_in = {x, w};
    if (with_bias) conv_in.push_back(b.constant("bias", random_floats({6}, 12)));
    conv_out = b.node("Conv", conv_in, {"c"}, {{"pads", Ints{1, 1, 1, 1}}, {"group", group}})->outputs[0];
    ir::Value* scale = b.constant("scale", random_floats({6}, 13, 0.5f, 2.0f));
    ir::Value* beta = b.constant("beta", random_floats({6}, 14));
    ir::Value* mean = b.constant("mean", random_floats({6}, 15));
    ir::Value* var = b.constant("var", random_floats({6}, 16, 0.1f, 3.0f));
    y = b.node("BatchNormalization", {conv_out, scale, beta, mean, var}, {"y"}, {{"epsilon", 1e-3f}})->outputs[0];
  }
};

void expect_folded(ConvBn& t) {
  const ir::Graph& g = t.b.graph();
  ASSERT_EQ(g.nodes().size(), 1u) << ir::to_string(g);
  const ir::Node& conv = *g.nodes()[0];
  EXPECT_EQ(conv.op_type, "Conv");
  EXPECT_EQ(conv.outputs[0]->name(), "y");
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_TRUE(conv.inputs[1]->is_constant() && conv.inputs[2]->is_constant());
  EXPECT_EQ(conv.inputs[2]->constant.shape(), (Shape{6}));
  EXPECT_EQ(g.find_value("scale"), nullptr);
}

TEST(FoldBatchNorm, ConvWithBias) {
  ConvBn t(true);
  t.b.output(t.y);
  passes::FoldBatchNorm pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({1, 4, 6, 6}, 17)}, 1e-4f);
  expect_folded(t);
}

TEST(FoldBatchNorm, GroupedConvWithoutBiasLeavesSharedWeightsAlone) {
  ConvBn t(false, 2);
  // A second reader of the weights: they must not be scaled in place.
  ir::Value* w2 = t.b.node("Identity", {t.w}, {"w_copy"})->outputs[0];
  t.b.output(t.y);
  t.b.output(w2);
  passes::FoldBatchNorm pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({1, 4, 6, 6}, 18)}, 1e-4f);
  EXPECT_EQ(count_ops(t.b.graph(), "BatchNormalization"), 0);
  const ir::Value* w = t.b.graph().find_value("w");  // the pass rebuilt the graph: t.w is stale
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(to_vector<float>(w->constant), to_vector<float>(t.w_before));
}

TEST(FoldBatchNorm, SkipsConvWithOtherReadersOrTrainingBn) {
  ConvBn shared(true);
  shared.b.output(shared.y);
  shared.b.output(shared.b.node("Relu", {shared.conv_out}, {"r"})->outputs[0]);
  passes::FoldBatchNorm pass;
  passes::PassContext ctx;
  auto changed = pass.run(shared.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);

  ConvBn training(true);
  ir::Node* bn = training.y->producer;
  bn->opset = 15;
  bn->attrs["training_mode"] = int64_t{1};
  ASSERT_TRUE(bn->parse_attributes().is_ok());
  training.b.output(training.y);
  changed = pass.run(training.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
}

}  // namespace
}  // namespace fulcrum::testing
