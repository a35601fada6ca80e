#include "passes/fuse_layer_norm.h"

#include <gtest/gtest.h>

#include "ops/normalization.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

Tensor scalar(float v) {
  Tensor t = Tensor::zeros(DType::kFloat32, {});
  t.mutable_data<float>()[0] = v;
  return t;
}

// The opset-13 export of LayerNorm over the last axis of x [2, 3, 8].
struct DecomposedLayerNorm {
  GraphBuilder b{13};
  ir::Value *x, *d, *y;
  explicit DecomposedLayerNorm(bool square_by_mul = false, Ints axes = {-1}) {
    x = b.input("x", DType::kFloat32, {2, 3, 8});
    ir::Value* mean = b.node("ReduceMean", {x}, {"mean"}, {{"axes", axes}})->outputs[0];
    d = b.node("Sub", {x, mean}, {"d"})->outputs[0];
    ir::Value* sq = square_by_mul ? b.node("Mul", {d, d}, {"sq"})->outputs[0]
                                  : b.node("Pow", {d, b.constant("two", scalar(2.0f))}, {"sq"})->outputs[0];
    ir::Value* var = b.node("ReduceMean", {sq}, {"var"}, {{"axes", axes}})->outputs[0];
    ir::Value* ve = b.node("Add", {var, b.constant("eps", scalar(1e-6f))}, {"ve"})->outputs[0];
    ir::Value* s = b.node("Sqrt", {ve}, {"s"})->outputs[0];
    ir::Value* n = b.node("Div", {d, s}, {"n"})->outputs[0];
    ir::Value* g = b.node("Mul", {b.constant("gamma", random_floats({8}, 3)), n}, {"g"})->outputs[0];
    y = b.node("Add", {g, b.constant("beta", random_floats({8}, 4))}, {"y"})->outputs[0];
  }
};

void expect_fused(const ir::Graph& g) {
  ASSERT_EQ(g.nodes().size(), 1u) << ir::to_string(g);
  const ir::Node& ln = *g.nodes()[0];
  EXPECT_EQ(ln.op_type, "LayerNormalization");
  EXPECT_EQ(ln.name, "ReduceMean_0");  // the first ReduceMean's name
  EXPECT_EQ(ln.opset, 17);
  EXPECT_EQ(ln.outputs[0]->name(), "y");
  EXPECT_FLOAT_EQ(ln.attrs_as<ops::LayerNormAttrs>().epsilon, 1e-6f);
  EXPECT_EQ(ln.attrs_as<ops::LayerNormAttrs>().axis, -1);
  // The raw attributes round-trip to the same typed ones (an engine file stores them).
  ir::Node copy = ln;
  ASSERT_TRUE(copy.parse_attributes().is_ok());
}

TEST(FuseLayerNorm, PowForm) {
  DecomposedLayerNorm t;
  t.b.output(t.y);
  passes::FuseLayerNorm pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({2, 3, 8}, 1, -3.0f, 5.0f)}, 1e-5f);
  expect_fused(t.b.graph());
}

TEST(FuseLayerNorm, MulFormWithPositiveAxis) {
  DecomposedLayerNorm t(true, {2});
  t.b.output(t.y);
  passes::FuseLayerNorm pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({2, 3, 8}, 2)}, 1e-5f);
  expect_fused(t.b.graph());
}

TEST(FuseLayerNorm, UnknownShapeOfXStillFuses) {
  // ONNX shape inference leaves BERT's embeddings sum without a shape (opset 13 export).
  DecomposedLayerNorm t;
  t.x->type.dims.reset();
  t.b.output(t.y);
  passes::FuseLayerNorm pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({2, 3, 8}, 5)}, 1e-5f);
  expect_fused(t.b.graph());
}

TEST(FuseLayerNorm, GammaAlongAnotherAxisIsLeftAlone) {
  DecomposedLayerNorm t;
  t.x->type.dims = std::vector<ir::Dim>{{2, {}}, {3, {}}, {1, {}}};  // gamma [8] would broadcast x
  t.b.output(t.y);
  passes::FuseLayerNorm pass;
  passes::PassContext ctx;
  auto changed = pass.run(t.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
}

TEST(FuseLayerNorm, OtherAxisOrSharedIntermediateIsLeftAlone) {
  for (bool share : {false, true}) {
    DecomposedLayerNorm t(false, share ? Ints{-1} : Ints{1});
    t.b.output(t.y);
    if (share) t.b.output(t.d);  // d is read outside the pattern
    passes::FuseLayerNorm pass;
    passes::PassContext ctx;
    auto changed = pass.run(t.b.graph(), ctx);
    ASSERT_TRUE(changed.is_ok());
    EXPECT_FALSE(*changed);
    EXPECT_EQ(count_ops(t.b.graph(), "LayerNormalization"), 0);
  }
}

}  // namespace
}  // namespace fulcrum::testing
