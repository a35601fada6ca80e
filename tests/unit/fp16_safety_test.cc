// The data-free FP16 safety rule: a layer is FP16-safe by its op and its weights, and every
// verdict says why.
#include "passes/fp16_safety.h"

#include <gtest/gtest.h>

#include <cmath>

#include "passes/fuse_epilogue.h"
#include "passes_test_util.h"

namespace fulcrum::passes {
namespace {

using testing::GraphBuilder;

ir::Node* conv_with_weights(GraphBuilder& b, Tensor w) {
  ir::Value* x = b.input("x", DType::kFloat32, {1, 2, 5, 5});
  ir::Node* conv = b.node("Conv", {x, b.constant("w", std::move(w))}, {"y"});
  conv->outputs[0]->type.dtype = DType::kFloat32;
  b.output(conv->outputs[0]);
  return conv;
}

TEST(Fp16Safety, ConvWithOrdinaryWeightsIsSafe) {
  GraphBuilder b;
  ir::Node* conv = conv_with_weights(b, testing::random_floats({3, 2, 3, 3}, 1));
  Fp16Verdict v = fp16_verdict(b.graph(), *conv);
  EXPECT_TRUE(v.safe) << v.reason;
  EXPECT_NE(v.reason.find("convolution"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("weights fit FP16"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, ConvWithWeightsBeyondFp16RangeStaysFp32) {
  GraphBuilder b;
  Tensor w = testing::random_floats({3, 2, 3, 3}, 1);
  w.mutable_data<float>()[4] = 7e4f;
  ir::Node* conv = conv_with_weights(b, w);
  Fp16Verdict v = fp16_verdict(b.graph(), *conv);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("weight 'w': 1 of 54 values beyond FP16's range 65504"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("7e+04"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, ConvWhoseWeightsLieBelowFp16sNormalRangeStaysFp32) {
  // Weights scaled down as a whole (|w| < 2^-14, FP16's smallest normal): FP16 keeps a few
  // bits of each, or none.
  GraphBuilder b;
  Tensor w = testing::random_floats({3, 2, 3, 3}, 1, 1e-6f, 5e-5f);
  for (int i = 0; i < 27; ++i) w.mutable_data<float>()[i] = 1e-4f;  // half of them just above
  Fp16Verdict v = fp16_verdict(b.graph(), *conv_with_weights(b, w));
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("weight 'w': 27 of its 54 nonzero values (50.0%), holding"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("below FP16's normal range 2^-14"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, AFewTinyValuesInASmallWeightAreHarmless) {
  // One value of 64 (1.6%) below 2^-14, next to values near 0.5: it holds 0.0001% of the
  // weight's magnitude, and FP16 still holds it within 2^-25.
  GraphBuilder b;
  Tensor w = testing::random_floats({4, 2, 2, 4}, 2, 0.25f, 0.75f);
  w.mutable_data<float>()[7] = 3e-5f;
  Fp16Verdict v = fp16_verdict(b.graph(), *conv_with_weights(b, w));
  EXPECT_TRUE(v.safe) << v.reason;
  EXPECT_NE(v.reason.find("1 of 64 nonzero below 2^-14"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, ZerosAreNotSubnormal) {
  GraphBuilder b;
  Tensor w = Tensor::zeros(DType::kFloat32, {3, 2, 3, 3});
  w.mutable_data<float>()[0] = 0.5f;
  EXPECT_TRUE(fp16_verdict(b.graph(), *conv_with_weights(b, w)).safe);
}

TEST(Fp16Safety, AFusedConvIsJudgedByItsWeightsAndPostOps) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {1, 2, 5, 5});
  Tensor w = testing::random_floats({3, 2, 3, 3}, 1);
  ir::Node* conv = b.node("Conv", {x, b.constant("w", w)}, {"c"});
  ir::Node* relu = b.node("Relu", {conv->outputs[0]}, {"y"});
  for (ir::Node* n : {conv, relu}) n->outputs[0]->type.dtype = DType::kFloat32;
  b.output(relu->outputs[0]);
  FuseEpilogue fuse;
  PassContext ctx;
  ASSERT_TRUE(ir::verify(b.graph()).is_ok());
  auto fused = fuse.run(b.graph(), ctx);
  ASSERT_TRUE(fused.is_ok() && *fused);
  const ir::Node& n = *b.graph().nodes()[0];
  ASSERT_EQ(n.op_type, "FusedConv");
  Fp16Verdict v = fp16_verdict(b.graph(), n);
  EXPECT_TRUE(v.safe) << v.reason;
  w.mutable_data<float>()[0] = -1e5f;  // the tensor the fused node reads
  v = fp16_verdict(b.graph(), n);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("1 of 54 values beyond FP16's range"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, NormalizationsReductionsAndExpStayFp32) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 8});
  ir::Value* scale = b.constant("scale", testing::random_floats({8}, 1));
  ir::Value* bias = b.constant("bias", testing::random_floats({8}, 2));
  ir::Node* ln = b.node("LayerNormalization", {x, scale, bias}, {"ln"}, {{"axis", int64_t{-1}}});
  ir::Node* sum = b.node("ReduceSum", {ln->outputs[0]}, {"s"});
  ir::Node* e = b.node("Exp", {sum->outputs[0]}, {"e"});
  for (ir::Node* n : {ln, sum, e}) n->outputs[0]->type.dtype = DType::kFloat32;
  b.output(e->outputs[0]);
  Fp16Verdict v = fp16_verdict(b.graph(), *ln);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("normalization"), std::string::npos) << v.reason;
  v = fp16_verdict(b.graph(), *sum);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("overflows FP16"), std::string::npos) << v.reason;
  v = fp16_verdict(b.graph(), *e);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("x > 11.1"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, SoftmaxActivationsAndPoolingAreSafe) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {1, 4, 6, 6});
  ir::Node* relu = b.node("Relu", {x}, {"r"});
  ir::Node* pool = b.node("GlobalAveragePool", {relu->outputs[0]}, {"p"});
  ir::Node* sm = b.node("Softmax", {pool->outputs[0]}, {"s"}, {{"axis", int64_t{1}}});
  for (ir::Node* n : {relu, pool, sm}) {
    n->outputs[0]->type.dtype = DType::kFloat32;
    Fp16Verdict v = fp16_verdict(b.graph(), *n);
    EXPECT_TRUE(v.safe) << n->op_type << ": " << v.reason;
  }
}

TEST(Fp16Safety, DivisionIsSafeOnlyByAConstant) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  ir::Value* y = b.input("y", DType::kFloat32, {4});
  ir::Node* by_const = b.node("Div", {x, b.constant("c", testing::random_floats({1}, 3, 1.0f, 2.0f))}, {"q1"});
  ir::Node* by_tensor = b.node("Div", {x, y}, {"q2"});
  for (ir::Node* n : {by_const, by_tensor}) n->outputs[0]->type.dtype = DType::kFloat32;
  EXPECT_TRUE(fp16_verdict(b.graph(), *by_const).safe);
  Fp16Verdict v = fp16_verdict(b.graph(), *by_tensor);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("division by a tensor"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, ShapeAndIntegerOpsAreReportedAsNoFloatMath) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 3});
  ir::Node* shape = b.node("Shape", {x}, {"shape"});
  shape->outputs[0]->type.dtype = DType::kInt64;
  ir::Node* reshape = b.node("Reshape", {x, shape->outputs[0]}, {"r"});
  reshape->outputs[0]->type.dtype = DType::kFloat32;
  Fp16Verdict v = fp16_verdict(b.graph(), *shape);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("no float math"), std::string::npos) << v.reason;
  // Moving float data is exact in FP16 for values already in FP16.
  v = fp16_verdict(b.graph(), *reshape);
  EXPECT_TRUE(v.safe) << v.reason;
  EXPECT_NE(v.reason.find("moves data"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, ParametersAreNotData) {
  // A Mul that computes a Resize's scales: the scales keep full precision, and so does the Mul.
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 1, 2, 2});
  ir::Value* s = b.input("s", DType::kFloat32, {4});
  ir::Node* mul = b.node("Mul", {s, b.constant("k", testing::random_floats({4}, 4, 1.0f, 2.0f))}, {"scales"});
  mul->outputs[0]->type.dtype = DType::kFloat32;
  ir::Value* roi = b.constant("roi", Tensor::zeros(DType::kFloat32, {0}));
  ir::Node* resize = b.node("Resize", {x, roi, mul->outputs[0]}, {"y"});
  resize->outputs[0]->type.dtype = DType::kFloat32;
  EXPECT_TRUE(is_fp16_data_input(*resize, 0));
  EXPECT_FALSE(is_fp16_data_input(*resize, 1));
  EXPECT_FALSE(is_fp16_data_input(*resize, 2));
  Fp16Verdict v = fp16_verdict(b.graph(), *mul);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("a parameter rather than data"), std::string::npos) << v.reason;
  EXPECT_TRUE(fp16_verdict(b.graph(), *resize).safe);
}

TEST(Fp16Safety, UnknownOpsStayFp32) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  ir::Node* n = b.node("Det", {x}, {"d"});
  n->outputs[0]->type.dtype = DType::kFloat32;
  Fp16Verdict v = fp16_verdict(b.graph(), *n);
  EXPECT_FALSE(v.safe);
  EXPECT_NE(v.reason.find("no FP16 rule for Det"), std::string::npos) << v.reason;
}

TEST(Fp16Safety, WeightStatsCountOverflowSubnormalAndNaN) {
  const float w[] = {0.0f, 1.0f, -65504.0f, 65520.0f, 3e-5f, -1e-9f, std::nanf("")};
  Fp16WeightStats s = fp16_weight_stats(w, 7);
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.nonzero, 6);
  EXPECT_EQ(s.overflow, 2);  // 65520 and NaN
  EXPECT_EQ(s.subnormal, 2);
  EXPECT_EQ(s.max_abs, 65520.0f);
  EXPECT_NEAR(s.abs_sum, 1.0 + 65504.0 + 3e-5 + 1e-9, 1e-6);
  EXPECT_NEAR(s.subnormal_abs_sum, 3e-5 + 1e-9, 1e-12);
}

}  // namespace
}  // namespace fulcrum::passes
