#include "passes/fuse_gelu.h"

#include <gtest/gtest.h>

#include <cmath>

#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

Tensor scalar(float v) {
  Tensor t = Tensor::zeros(DType::kFloat32, {});
  t.mutable_data<float>()[0] = v;
  return t;
}

// x -> MatMul-free stand-in (Relu) -> GELU pattern -> y, in one of the exported forms.
struct GeluGraph {
  GraphBuilder b{13};
  ir::Value *x, *h, *y;
  // half_first: Mul(Mul(h, 0.5), 1 + erf); mul_form: h * (1/sqrt 2) instead of h / sqrt 2.
  explicit GeluGraph(bool half_first = false, bool mul_form = false) {
    x = b.input("x", DType::kFloat32, {2, 5, 7});
    h = b.node("Relu", {x}, {"h"})->outputs[0];
    h->type.dtype = DType::kFloat32;
    ir::Value* scaled = mul_form ? b.node("Mul", {b.constant("r", scalar(0.70710678f)), h}, {"s"})->outputs[0]
                                 : b.node("Div", {h, b.constant("c", scalar(1.4142135f))}, {"s"})->outputs[0];
    ir::Value* e = b.node("Erf", {scaled}, {"e"})->outputs[0];
    ir::Value* e1 = b.node("Add", {b.constant("one", scalar(1.0f)), e}, {"e1"})->outputs[0];
    if (half_first) {
      ir::Value* hh = b.node("Mul", {h, b.constant("half", scalar(0.5f))}, {"hh"})->outputs[0];
      y = b.node("Mul", {e1, hh}, {"y"})->outputs[0];
    } else {
      ir::Value* m = b.node("Mul", {h, e1}, {"m"})->outputs[0];
      y = b.node("Mul", {m, b.constant("half", scalar(0.5f))}, {"y"})->outputs[0];
    }
  }
};

void expect_fused(const ir::Graph& g) {
  EXPECT_EQ(count_ops(g, "Erf"), 0) << ir::to_string(g);
  ASSERT_EQ(count_ops(g, "Gelu"), 1) << ir::to_string(g);
  for (const auto& n : g.nodes()) {
    if (n->op_type != "Gelu") continue;
    EXPECT_EQ(n->domain, "fulcrum");
    EXPECT_EQ(n->name, "Erf_2") << "the fused node takes the Erf node's name";
    EXPECT_EQ(n->outputs[0]->name(), "y");
    EXPECT_EQ(n->inputs[0]->name(), "h");
  }
}

TEST(FuseGelu, HalvingLast) {
  GeluGraph t;
  t.b.output(t.y);
  passes::FuseGelu pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({2, 5, 7}, 1, -4.0f, 4.0f)}, 1e-5f);
  expect_fused(t.b.graph());
  EXPECT_EQ(t.b.graph().nodes().size(), 2u);
}

TEST(FuseGelu, HalvingFirstAndMultiplyByInverseRoot) {
  GeluGraph t(true, true);
  t.b.output(t.y);
  passes::FuseGelu pass;
  run_pass_and_compare(pass, t.b.graph(), {random_floats({2, 5, 7}, 2, -4.0f, 4.0f)}, 1e-5f);
  expect_fused(t.b.graph());
}

TEST(FuseGelu, IntermediateReadElsewhereIsLeftAlone) {
  GeluGraph t;
  t.b.output(t.y);
  t.b.output(t.b.graph().find_value("e"));  // the Erf output is also a graph output
  passes::FuseGelu pass;
  passes::PassContext ctx;
  auto changed = pass.run(t.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(count_ops(t.b.graph(), "Erf"), 1);
}

TEST(FuseGelu, WrongConstantIsLeftAlone) {
  GraphBuilder b{13};
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  ir::Value* s = b.node("Div", {x, b.constant("c", scalar(2.0f))}, {"s"})->outputs[0];
  ir::Value* e = b.node("Erf", {s}, {"e"})->outputs[0];
  ir::Value* e1 = b.node("Add", {e, b.constant("one", scalar(1.0f))}, {"e1"})->outputs[0];
  ir::Value* m = b.node("Mul", {x, e1}, {"m"})->outputs[0];
  b.output(b.node("Mul", {m, b.constant("half", scalar(0.5f))}, {"y"})->outputs[0]);
  passes::FuseGelu pass;
  passes::PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
}

}  // namespace
}  // namespace fulcrum::testing
