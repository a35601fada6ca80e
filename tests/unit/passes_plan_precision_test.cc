#include "passes/plan_precision.h"

#include <gtest/gtest.h>

#include "ops/quantized_fused.h"
#include "passes/fuse_epilogue.h"
#include "passes/lower_int8.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

TEST(GlobMatch, StarsAndQuestionMarks) {
  EXPECT_TRUE(passes::glob_match("*", ""));
  EXPECT_TRUE(passes::glob_match("*", "/head/conv"));
  EXPECT_TRUE(passes::glob_match("/head/*", "/head/fc/Gemm"));
  EXPECT_FALSE(passes::glob_match("/head/*", "/body/head/x"));
  EXPECT_TRUE(passes::glob_match("*conv?", "layer1.conv2"));
  EXPECT_FALSE(passes::glob_match("*conv?", "layer1.conv"));
  EXPECT_TRUE(passes::glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(passes::glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(passes::glob_match("exact", "exact"));
  EXPECT_FALSE(passes::glob_match("exact", "exactly"));
}

void set_float_type(ir::Value* v, Ints dims) {
  v->type.dtype = DType::kFloat32;
  std::vector<ir::Dim> d;
  for (int64_t x : dims) d.push_back(ir::Dim{x, ""});
  v->type.dims = d;
}

// x -> conv c1 -> relu -> conv c2 -> y, with scales for x and the ReLU output (and y).
struct TwoConvs {
  GraphBuilder b{13};
  TwoConvs() {
    ir::Value* x = b.input("x", DType::kFloat32, {1, 3, 8, 8});
    ir::Value* w1 = b.constant("w1", random_floats({4, 3, 3, 3}, 1));
    ir::Value* c1 = b.node("Conv", {x, w1}, {"c1_out"}, {{"pads", Ints{1, 1, 1, 1}}})->outputs[0];
    c1->producer->name = "c1";
    set_float_type(c1, {1, 4, 8, 8});
    ir::Value* r = b.node("Relu", {c1}, {"r"})->outputs[0];
    r->producer->name = "relu";
    set_float_type(r, {1, 4, 8, 8});
    ir::Value* w2 = b.constant("w2", random_floats({2, 4, 1, 1}, 2));
    ir::Value* y = b.node("Conv", {r, w2}, {"y"})->outputs[0];
    y->producer->name = "c2";
    set_float_type(y, {1, 2, 8, 8});
    b.output(y);
    auto& scales = b.graph().tensor_scales;
    scales = {{"x", 1.f / 127}, {"r", 2.f / 127}, {"c1_out", 2.f / 127}, {"y", 3.f / 127}};
  }
  const ir::Node& node(const std::string& name) {
    for (const auto& n : b.graph().nodes())
      if (n->name == name) return *n;
    throw std::runtime_error("no node " + name);
  }
};

Result<bool> plan(ir::Graph& g, passes::PrecisionPlanOptions o) {
  passes::PassContext ctx;
  return passes::PlanPrecision(std::move(o)).run(g, ctx);
}

TEST(PlanPrecision, Int8WhereAKernelAndAScaleExist) {
  TwoConvs t;
  passes::PrecisionPlanOptions o;
  o.int8 = true;
  ASSERT_TRUE(plan(t.b.graph(), o).is_ok());
  EXPECT_EQ(t.node("c1").precision, Precision::kInt8) << t.node("c1").precision_reason;
  EXPECT_EQ(t.node("c2").precision, Precision::kInt8);
  EXPECT_EQ(t.node("relu").precision, Precision::kFp32);
  EXPECT_NE(t.node("relu").precision_reason.find("no INT8 kernel for Relu"), std::string::npos)
      << t.node("relu").precision_reason;
}

TEST(PlanPrecision, MissingScaleFallsBackToFp16OrFp32WithTheReason) {
  TwoConvs t;
  t.b.graph().tensor_scales.erase("r");
  passes::PrecisionPlanOptions o;
  o.int8 = o.fp16 = true;
  ASSERT_TRUE(plan(t.b.graph(), o).is_ok());
  EXPECT_EQ(t.node("c1").precision, Precision::kInt8);
  EXPECT_EQ(t.node("c2").precision, Precision::kFp16);
  EXPECT_NE(t.node("c2").precision_reason.find("no INT8 scale for its input 'r'"), std::string::npos)
      << t.node("c2").precision_reason;
}

TEST(PlanPrecision, ObeyFailsNamingEveryLayerItCannotHonour) {
  TwoConvs t;
  t.b.graph().tensor_scales.erase("r");
  passes::PrecisionPlanOptions o;
  o.requests = {{"*", Precision::kInt8}};
  o.constraints = PrecisionConstraints::kObey;
  auto r = plan(t.b.graph(), o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("layer 'c2' (Conv)"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("'c1'"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("relu"), std::string::npos) << "a * default does not ask ReLU for INT8";
}

TEST(PlanPrecision, PreferFallsBackWithAWarningAndLaterRequestsWin) {
  TwoConvs t;
  t.b.graph().tensor_scales.erase("r");
  passes::PrecisionPlanOptions o;
  o.fp16 = true;
  o.requests = {{"c*", Precision::kFp32}, {"*", Precision::kInt8}, {"c1", Precision::kFp16}};
  o.constraints = PrecisionConstraints::kPrefer;
  std::vector<std::string> warnings;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  ASSERT_TRUE(plan(t.b.graph(), o).is_ok());
  EXPECT_EQ(t.node("c1").precision, Precision::kFp16);
  EXPECT_NE(t.node("c1").precision_reason.find("requested fp16 ('c1')"), std::string::npos);
  EXPECT_EQ(t.node("c2").precision, Precision::kFp16) << t.node("c2").precision_reason;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("layer 'c2'"), std::string::npos) << warnings[0];
}

TEST(PlanPrecision, Fp16RuleDecides) {
  TwoConvs t;
  passes::PrecisionPlanOptions o;
  o.fp16 = true;
  o.fp16_rule = [](const ir::Graph&, const ir::Node& n) {
    return passes::Fp16Check{n.name != "c2", n.name == "c2" ? "weights overflow" : "fits"};
  };
  ASSERT_TRUE(plan(t.b.graph(), o).is_ok());
  EXPECT_EQ(t.node("c1").precision, Precision::kFp16);
  EXPECT_EQ(t.node("c2").precision, Precision::kFp32);
  EXPECT_NE(t.node("c2").precision_reason.find("weights overflow"), std::string::npos);
}

TEST(LowerInt8, KeepsInt8BetweenConvsAndDequantizesAtTheBoundary) {
  TwoConvs t;
  ir::Graph& g = t.b.graph();
  passes::PassContext ctx;
  ASSERT_TRUE(passes::FuseEpilogue().run(g, ctx).is_ok());  // c1 + ReLU -> FusedConv writing "r"
  passes::PrecisionPlanOptions o;
  o.int8 = true;
  ASSERT_TRUE(plan(g, o).is_ok());
  auto lowered = passes::LowerInt8().run(g, ctx);
  ASSERT_TRUE(lowered.is_ok()) << lowered.status().message();
  EXPECT_TRUE(*lowered);
  const ir::Node& c1 = t.node("c1");
  const ir::Node& c2 = t.node("c2");
  ASSERT_EQ(c1.op_type, "QConv");
  ASSERT_EQ(c2.op_type, "QConv");
  const auto& q1 = c1.attrs_as<ops::QConvAttrs>();
  const auto& q2 = c2.attrs_as<ops::QConvAttrs>();
  EXPECT_EQ(q1.quant.in_dtype, DType::kInt8);      // the model input may be negative
  EXPECT_EQ(q1.quant.out_dtype, DType::kUInt8);    // after the ReLU
  EXPECT_EQ(q1.dst_layout, ops::Layout::kNhwc);    // INT8 between convolutions is NHWC
  EXPECT_FLOAT_EQ(q1.quant.out_scale, 2.f / 255);  // the ReLU output's amax over uint8's range
  EXPECT_EQ(q1.quant.w_scales.size(), 4u);
  EXPECT_EQ(q2.quant.in_dtype, DType::kUInt8);
  EXPECT_EQ(q2.src_layout, ops::Layout::kNhwc);
  EXPECT_EQ(q2.quant.out_dtype, DType::kFloat32);  // a graph output
  EXPECT_EQ(q2.dst_layout, ops::Layout::kNchw);
  const ir::Value* r = g.find_value("r");
  EXPECT_EQ(r->type.dtype, DType::kUInt8);
  EXPECT_EQ(r->type.dims->at(3).value, 4);  // [N, H, W, C]
  EXPECT_EQ(c1.inputs[1]->constant.dtype(), DType::kInt8);
  // Per-channel weights use the full range: each channel's largest |w| maps to 127.
  const Tensor& w = c1.inputs[1]->constant;
  for (int64_t oc = 0; oc < 4; ++oc) {
    int m = 0;
    for (int64_t i = 0; i < 27; ++i) m = std::max(m, std::abs(static_cast<int>(w.data<int8_t>()[oc * 27 + i])));
    EXPECT_EQ(m, 127);
  }
}

}  // namespace
}  // namespace fulcrum::testing

namespace fulcrum::testing {
namespace {

TEST(LowerInt8, MaxPoolBetweenInt8ConvsRunsOnTheInt8Tensor) {
  // x -> conv c1 -> relu (r) -> maxpool (p) -> conv c2 -> y
  GraphBuilder b{13};
  ir::Value* x = b.input("x", DType::kFloat32, {1, 3, 8, 8});
  ir::Value* c1 =
      b.node("Conv", {x, b.constant("w1", random_floats({4, 3, 3, 3}, 1))}, {"c1_out"}, {{"pads", Ints{1, 1, 1, 1}}})
          ->outputs[0];
  c1->producer->name = "c1";
  set_float_type(c1, {1, 4, 8, 8});
  ir::Value* r = b.node("Relu", {c1}, {"r"})->outputs[0];
  set_float_type(r, {1, 4, 8, 8});
  ir::Value* p = b.node("MaxPool", {r}, {"p"}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}})->outputs[0];
  p->producer->name = "pool";
  set_float_type(p, {1, 4, 4, 4});
  ir::Value* y = b.node("Conv", {p, b.constant("w2", random_floats({2, 4, 1, 1}, 2))}, {"y"})->outputs[0];
  y->producer->name = "c2";
  set_float_type(y, {1, 2, 4, 4});
  b.output(y);
  ir::Graph& g = b.graph();
  // The pool output's own calibrated scale differs: the second conv must use the ReLU's.
  g.tensor_scales = {{"x", 1.f / 127}, {"r", 2.f / 127}, {"p", 1.5f / 127}, {"y", 3.f / 127}};
  passes::PassContext ctx;
  ASSERT_TRUE(passes::FuseEpilogue().run(g, ctx).is_ok());
  passes::PrecisionPlanOptions o;
  o.int8 = true;
  ASSERT_TRUE(plan(g, o).is_ok());
  auto lowered = passes::LowerInt8().run(g, ctx);
  ASSERT_TRUE(lowered.is_ok()) << lowered.status().message();
  const ir::Node* pool = g.find_value("p")->producer;
  EXPECT_EQ(pool->op_type, "NhwcPool");
  EXPECT_EQ(pool->precision, Precision::kInt8);
  EXPECT_EQ(g.find_value("p")->type.dtype, DType::kUInt8);
  EXPECT_EQ(g.find_value("p")->type.dims->at(3).value, 4);  // NHWC
  const auto& q2 = g.find_value("y")->producer->attrs_as<ops::QConvAttrs>();
  EXPECT_EQ(q2.quant.in_dtype, DType::kUInt8);
  EXPECT_EQ(q2.src_layout, ops::Layout::kNhwc);
  EXPECT_FLOAT_EQ(q2.quant.in_scale, 2.f / 255);  // the ReLU's amax (2), not the pool output's (1.5)
}

}  // namespace
}  // namespace fulcrum::testing
