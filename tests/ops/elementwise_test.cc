#include <cmath>
#include <limits>

#include "core/float16.h"
#include "op_test_util.h"
#include "ops/elementwise.h"
#include "ops/onnx_types.h"

namespace fulcrum::testing {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs a one-input float op and compares with hand-computed values.
void check_unary(const std::string& op, const std::vector<float>& in, const std::vector<float>& expected,
                 const ops::Attributes& attrs = {}, int64_t opset = 17) {
  SCOPED_TRACE(op);
  auto r = run_op(op, {make_tensor<float>({static_cast<int64_t>(in.size())}, in)}, attrs, 1, opset);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {static_cast<int64_t>(in.size())}, expected);
}

// --- unary math ---------------------------------------------------------------------------

TEST(ElementwiseUnary, MathFunctions) {
  const std::vector<float> x = {-0.5f, 0.0f, 0.8f};
  check_unary("Exp", x, {0.6065307f, 1.0f, 2.225541f});
  check_unary("Sin", x, {-0.4794255f, 0.0f, 0.7173561f});
  check_unary("Cos", x, {0.8775826f, 1.0f, 0.6967067f});
  check_unary("Tan", x, {-0.5463025f, 0.0f, 1.029639f});
  check_unary("Asin", x, {-0.5235988f, 0.0f, 0.9272952f});
  check_unary("Acos", x, {2.094395f, 1.570796f, 0.6435011f});
  check_unary("Atan", x, {-0.4636476f, 0.0f, 0.6747409f});
  check_unary("Sinh", x, {-0.5210953f, 0.0f, 0.888106f});
  check_unary("Cosh", x, {1.127626f, 1.0f, 1.337435f});
  check_unary("Asinh", x, {-0.4812118f, 0.0f, 0.7326683f});
  check_unary("Atanh", x, {-0.5493061f, 0.0f, 1.098612f});
  check_unary("Erf", x, {-0.5204999f, 0.0f, 0.742101f});
  check_unary("Acosh", {1.0f, 2.0f, 3.0f}, {0.0f, 1.316958f, 1.762747f});
  check_unary("Log", {1.0f, 2.0f, 0.5f}, {0.0f, 0.6931472f, -0.6931472f});
  check_unary("Sqrt", {0.0f, 4.0f, 2.25f}, {0.0f, 2.0f, 1.5f});
  check_unary("Reciprocal", {2.0f, -0.25f, 1.0f}, {0.5f, -4.0f, 1.0f});
  check_unary("Floor", {-1.5f, 1.5f, 2.0f}, {-2.0f, 1.0f, 2.0f});
  check_unary("Ceil", {-1.5f, 1.5f, 2.0f}, {-1.0f, 2.0f, 2.0f});
  check_unary("Abs", {-1.5f, 0.0f, 2.0f}, {1.5f, 0.0f, 2.0f});
  check_unary("Neg", {-1.5f, 0.0f, 2.0f}, {1.5f, 0.0f, -2.0f});
  check_unary("Sign", {-1.5f, 0.0f, 2.0f}, {-1.0f, 0.0f, 1.0f});
}

TEST(ElementwiseUnary, RoundIsHalfToEven) {
  check_unary("Round", {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f}, {0, 2, 2, -0.0f, -2, -2, 2, -3});
}

TEST(ElementwiseUnary, IntegerAbsNegSignWrapAndKeepDtype) {
  auto abs = run_op("Abs", {make_tensor<int8_t>({3}, {-128, -5, 7})});
  ASSERT_TRUE(abs.status.is_ok()) << abs.status.to_string();
  EXPECT_EQ(values_of<int8_t>(abs.outputs[0]), (std::vector<int8_t>{-128, 5, 7}));  // |-128| wraps
  auto neg = run_op("Neg", {make_tensor<int64_t>({2}, {5, std::numeric_limits<int64_t>::min()})});
  ASSERT_TRUE(neg.status.is_ok()) << neg.status.to_string();
  EXPECT_EQ(values_of<int64_t>(neg.outputs[0]), (std::vector<int64_t>{-5, std::numeric_limits<int64_t>::min()}));
  auto sign = run_op("Sign", {make_tensor<int32_t>({3}, {-9, 0, 4})});
  ASSERT_TRUE(sign.status.is_ok()) << sign.status.to_string();
  EXPECT_EQ(values_of<int32_t>(sign.outputs[0]), (std::vector<int32_t>{-1, 0, 1}));
}

TEST(ElementwiseUnary, IsNaNIsInfAndNot) {
  auto x = make_tensor<float>({4}, {kNaN, kInf, -kInf, 1.0f});
  auto nan = run_op("IsNaN", {x});
  ASSERT_TRUE(nan.status.is_ok()) << nan.status.to_string();
  EXPECT_EQ(values_of<bool>(nan.outputs[0]), (std::vector<bool>{true, false, false, false}));
  auto inf = run_op("IsInf", {x});
  ASSERT_TRUE(inf.status.is_ok()) << inf.status.to_string();
  EXPECT_EQ(values_of<bool>(inf.outputs[0]), (std::vector<bool>{false, true, true, false}));
  auto pos = run_op("IsInf", {x}, {{"detect_negative", int64_t{0}}});
  ASSERT_TRUE(pos.status.is_ok()) << pos.status.to_string();
  EXPECT_EQ(values_of<bool>(pos.outputs[0]), (std::vector<bool>{false, true, false, false}));
  auto neg = run_op("IsInf", {x}, {{"detect_positive", int64_t{0}}});
  ASSERT_TRUE(neg.status.is_ok()) << neg.status.to_string();
  EXPECT_EQ(values_of<bool>(neg.outputs[0]), (std::vector<bool>{false, false, true, false}));
  auto n = run_op("Not", {make_tensor<bool>({2}, {true, false})});
  ASSERT_TRUE(n.status.is_ok()) << n.status.to_string();
  EXPECT_EQ(values_of<bool>(n.outputs[0]), (std::vector<bool>{false, true}));
}

TEST(ElementwiseUnary, RejectsWrongDtypes) {
  expect_error(run_op("Exp", {make_tensor<int32_t>({1}, {1})}), "int32");
  expect_error(run_op("Not", {make_tensor<float>({1}, {1.0f})}), "must be bool");
}

TEST(ElementwiseUnary, Float16ComputesAndRoundsOnce) {
  Tensor x = Tensor::from_vector<uint16_t>(DType::kFloat16, {2}, {float_to_half(-2.0f), float_to_half(0.5f)});
  auto r = run_op("Exp", {x});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kFloat16);
  EXPECT_EQ(r.outputs[0].data<uint16_t>()[0], float_to_half(std::exp(-2.0f)));
  EXPECT_EQ(r.outputs[0].data<uint16_t>()[1], float_to_half(std::exp(0.5f)));
}

// --- activations --------------------------------------------------------------------------

TEST(ElementwiseActivation, HandComputed) {
  const std::vector<float> x = {-2.0f, -0.5f, 0.0f, 1.0f};
  check_unary("Relu", x, {0, 0, 0, 1});
  check_unary("LeakyRelu", x, {-0.02f, -0.005f, 0, 1});
  check_unary("LeakyRelu", x, {-0.2f, -0.05f, 0, 1}, {{"alpha", 0.1f}});
  check_unary("Elu", x, {-1.7293294f, -0.7869387f, 0, 1}, {{"alpha", 2.0f}});
  check_unary("Selu", x, {-1.5201665f, -0.6917582f, 0, 1.050701f});
  check_unary("Celu", x, {-1.2642411f, -0.4423984f, 0, 1}, {{"alpha", 2.0f}});
  check_unary("Sigmoid", {-0.5f, 0.0f, 0.8f}, {0.3775407f, 0.5f, 0.6899745f});
  check_unary("Tanh", {-0.5f, 0.0f, 0.8f}, {-0.4621172f, 0.0f, 0.6640368f});
  check_unary("HardSigmoid", x, {0.1f, 0.4f, 0.5f, 0.7f});
  check_unary("HardSigmoid", x, {0.0f, 0.25f, 0.5f, 1.0f}, {{"alpha", 0.5f}, {"beta", 0.5f}});
  check_unary("HardSwish", {-4.0f, -1.0f, 0.0f, 1.0f, 4.0f}, {0.0f, -1.0f / 3, 0.0f, 2.0f / 3, 4.0f});
  check_unary("Softplus", x, {0.126928f, 0.474077f, 0.6931472f, 1.3132617f});
  check_unary("Softplus", {1000.0f}, {1000.0f});  // no overflow
  check_unary("Softsign", x, {-2.0f / 3, -1.0f / 3, 0, 0.5f});
  check_unary("ThresholdedRelu", x, {0, 0, 0, 0});
  check_unary("ThresholdedRelu", x, {0, 0, 0, 1}, {{"alpha", 0.5f}});
  check_unary("Shrink", x, {-2.0f, 0, 0, 1.0f});
  check_unary("Shrink", x, {-0.5f, 0, 0, 0}, {{"bias", 1.5f}, {"lambd", 1.0f}});
}

TEST(ElementwiseActivation, ReluOnIntegers) {
  auto r = run_op("Relu", {make_tensor<int32_t>({3}, {-4, 0, 9})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{0, 0, 9}));
}

TEST(ElementwiseActivation, ReluPassesNaN) {
  auto r = run_op("Relu", {make_tensor<float>({1}, {kNaN})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_TRUE(std::isnan(r.outputs[0].data<float>()[0]));
}

TEST(ElementwiseActivation, CeluRejectsZeroAlpha) {
  expect_error(run_op("Celu", {make_tensor<float>({1}, {1.0f})}, {{"alpha", 0.0f}}), "alpha");
}

TEST(ElementwiseActivation, PReluBroadcastsSlope) {
  auto x = make_tensor<float>({2, 2}, {-1.0f, 2.0f, -3.0f, -4.0f});
  auto r = run_op("PRelu", {x, make_tensor<float>({2}, {0.5f, 0.25f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2}, {-0.5f, 2.0f, -1.5f, -1.0f});
}

TEST(ElementwiseActivation, PReluOpset6TakesPerChannelSlope) {
  // [N=1, C=2, W=3] with a 1-D slope of C values: per channel, not per trailing element.
  auto x = make_tensor<float>({1, 2, 3}, {-1, -1, 1, -2, -2, 2});
  auto r = run_op("PRelu", {x, make_tensor<float>({2}, {0.5f, 0.25f})}, {}, 1, 6);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 3}, {-0.5f, -0.5f, 1, -0.5f, -0.5f, 2});
}

TEST(ElementwiseActivation, PReluRejectsSlopeThatWouldGrowX) {
  auto r = run_op("PRelu", {make_tensor<float>({2}, {1, 2}), make_tensor<float>({3, 1}, {1, 2, 3})});
  expect_error(r, "slope shape [3, 1]");
}

TEST(ElementwiseActivation, ClipWithInputsAttributesAndIntegers) {
  auto x = make_tensor<float>({4}, {-2.0f, -0.2f, 0.3f, 5.0f});
  auto both = run_op("Clip", {x, make_tensor<float>({}, {-1.0f}), make_tensor<float>({}, {1.0f})});
  ASSERT_TRUE(both.status.is_ok()) << both.status.to_string();
  expect_near(both.outputs[0], {4}, {-1.0f, -0.2f, 0.3f, 1.0f});
  auto max_only = run_op("Clip", {x, Tensor(), make_tensor<float>({}, {0.0f})});
  ASSERT_TRUE(max_only.status.is_ok()) << max_only.status.to_string();
  expect_near(max_only.outputs[0], {4}, {-2.0f, -0.2f, 0.0f, 0.0f});
  auto legacy = run_op("Clip", {x}, {{"min", -0.5f}, {"max", 0.5f}}, 1, 6);
  ASSERT_TRUE(legacy.status.is_ok()) << legacy.status.to_string();
  expect_near(legacy.outputs[0], {4}, {-0.5f, -0.2f, 0.3f, 0.5f});
  auto ints = run_op("Clip", {make_tensor<int8_t>({3}, {-100, 5, 100}), make_tensor<int8_t>({}, {-10})});
  ASSERT_TRUE(ints.status.is_ok()) << ints.status.to_string();
  EXPECT_EQ(values_of<int8_t>(ints.outputs[0]), (std::vector<int8_t>{-10, 5, 100}));
}

TEST(ElementwiseActivation, ClipRejectsNonScalarOrMistypedBounds) {
  auto x = make_tensor<float>({2}, {1, 2});
  expect_error(run_op("Clip", {x, make_tensor<float>({2}, {0, 1})}), "input 'min' must be a scalar");
  expect_error(run_op("Clip", {x, Tensor(), make_tensor<double>({}, {1.0})}), "input 'max' has dtype float64");
}

// --- binary arithmetic --------------------------------------------------------------------

TEST(ElementwiseBinary, AddBroadcastsRowAndColumn) {
  auto r = run_op("Add", {make_tensor<float>({2, 1}, {1.f, 2.f}), make_tensor<float>({3}, {10.f, 20.f, 30.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {11.f, 21.f, 31.f, 12.f, 22.f, 32.f});
}

TEST(ElementwiseBinary, AddRejectsIncompatibleShapes) {
  auto r = run_op("Add", {make_tensor<float>({2}, {1.f, 2.f}), make_tensor<float>({3}, {1.f, 2.f, 3.f})});
  expect_error(r, "test_Add");
  expect_error(r, "[2] and [3]");
}

TEST(ElementwiseBinary, RejectsMixedDtypes) {
  auto r = run_op("Mul", {make_tensor<float>({1}, {1.f}), make_tensor<double>({1}, {1.0})});
  expect_error(r, "float32 and float64");
}

TEST(ElementwiseBinary, ScalarEqualAndMiddleBroadcastPaths) {
  auto x = make_tensor<float>({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  auto scalar = run_op("Sub", {make_tensor<float>({}, {100.f}), x});
  ASSERT_TRUE(scalar.status.is_ok()) << scalar.status.to_string();
  expect_near(scalar.outputs[0], {2, 3, 2}, {100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89});
  auto same = run_op("Mul", {x, x});
  ASSERT_TRUE(same.status.is_ok()) << same.status.to_string();
  expect_near(same.outputs[0], {2, 3, 2}, {0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121});
  // [3, 1] against [2, 3, 2]: broadcast on the first and last axis, not the middle one.
  auto mid = run_op("Add", {x, make_tensor<float>({3, 1}, {100.f, 200.f, 300.f})});
  ASSERT_TRUE(mid.status.is_ok()) << mid.status.to_string();
  expect_near(mid.outputs[0], {2, 3, 2}, {100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311});
}

TEST(ElementwiseBinary, EmptyTensorsBroadcast) {
  auto r = run_op("Add", {make_tensor<float>({0, 3}, {}), make_tensor<float>({1, 3}, {1, 2, 3})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{0, 3}));
}

TEST(ElementwiseBinary, IntegerArithmeticWrapsAndTruncates) {
  auto add = run_op("Add", {make_tensor<uint8_t>({2}, {250, 1}), make_tensor<uint8_t>({2}, {10, 2})});
  ASSERT_TRUE(add.status.is_ok()) << add.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(add.outputs[0]), (std::vector<uint8_t>{4, 3}));
  auto sub = run_op("Sub", {make_tensor<int64_t>({2}, {5, -3}), make_tensor<int64_t>({}, {7})});
  ASSERT_TRUE(sub.status.is_ok()) << sub.status.to_string();
  EXPECT_EQ(values_of<int64_t>(sub.outputs[0]), (std::vector<int64_t>{-2, -10}));
  auto mul = run_op("Mul", {make_tensor<int32_t>({1}, {65536}), make_tensor<int32_t>({1}, {65536})});
  ASSERT_TRUE(mul.status.is_ok()) << mul.status.to_string();
  EXPECT_EQ(values_of<int32_t>(mul.outputs[0]), (std::vector<int32_t>{0}));
  auto div = run_op("Div", {make_tensor<int32_t>({4}, {-7, 7, 5, std::numeric_limits<int32_t>::min()}),
                            make_tensor<int32_t>({4}, {2, -2, 0, -1})});
  ASSERT_TRUE(div.status.is_ok()) << div.status.to_string();
  EXPECT_EQ(values_of<int32_t>(div.outputs[0]), (std::vector<int32_t>{-3, -3, 0, std::numeric_limits<int32_t>::min()}));
}

TEST(ElementwiseBinary, FloatDivision) {
  auto r = run_op("Div", {make_tensor<float>({3}, {1.f, -3.f, 1.f}), make_tensor<float>({3}, {4.f, 2.f, 0.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<float>(r.outputs[0]), (std::vector<float>{0.25f, -1.5f, kInf}));
}

TEST(ElementwiseBinary, ModSignFollowsFmodAttribute) {
  auto x = make_tensor<int32_t>({4}, {-7, 7, -7, 7});
  auto y = make_tensor<int32_t>({4}, {3, -3, -3, 0});
  auto python = run_op("Mod", {x, y});
  ASSERT_TRUE(python.status.is_ok()) << python.status.to_string();
  EXPECT_EQ(values_of<int32_t>(python.outputs[0]), (std::vector<int32_t>{2, -2, -1, 0}));
  auto c = run_op("Mod", {x, y}, {{"fmod", int64_t{1}}});
  ASSERT_TRUE(c.status.is_ok()) << c.status.to_string();
  EXPECT_EQ(values_of<int32_t>(c.outputs[0]), (std::vector<int32_t>{-1, 1, -1, 0}));
  auto f = run_op("Mod", {make_tensor<float>({2}, {-4.5f, 4.5f}), make_tensor<float>({2}, {2.f, -2.f})},
                  {{"fmod", int64_t{1}}});
  ASSERT_TRUE(f.status.is_ok()) << f.status.to_string();
  expect_near(f.outputs[0], {2}, {-0.5f, 0.5f});
}

TEST(ElementwiseBinary, ModRejectsFloatWithoutFmod) {
  expect_error(run_op("Mod", {make_tensor<float>({1}, {1.f}), make_tensor<float>({1}, {1.f})}), "'fmod' must be 1");
  expect_error(run_op("Mod", {make_tensor<int32_t>({1}, {1}), make_tensor<int32_t>({1}, {1})}, {{"fmod", int64_t{2}}}),
               "'fmod' must be 0 or 1");
}

TEST(ElementwiseBinary, PowMixesBaseAndExponentTypes) {
  auto ff = run_op("Pow", {make_tensor<float>({3}, {2.f, 4.f, 9.f}), make_tensor<float>({3}, {3.f, 0.5f, -1.f})});
  ASSERT_TRUE(ff.status.is_ok()) << ff.status.to_string();
  expect_near(ff.outputs[0], {3}, {8.f, 2.f, 1.f / 9});
  auto fi = run_op("Pow", {make_tensor<float>({2}, {1.5f, 2.f}), make_tensor<int64_t>({}, {2})});
  ASSERT_TRUE(fi.status.is_ok()) << fi.status.to_string();
  expect_near(fi.outputs[0], {2}, {2.25f, 4.f});
  // 3^39 needs all 62 bits: computing through double would lose the low ones.
  auto ii = run_op("Pow", {make_tensor<int64_t>({2}, {3, -2}), make_tensor<int64_t>({2}, {39, 3})});
  ASSERT_TRUE(ii.status.is_ok()) << ii.status.to_string();
  EXPECT_EQ(values_of<int64_t>(ii.outputs[0]), (std::vector<int64_t>{4052555153018976267, -8}));
  auto if_ = run_op("Pow", {make_tensor<int32_t>({2}, {4, 2}), make_tensor<float>({2}, {0.5f, 2.5f})});
  ASSERT_TRUE(if_.status.is_ok()) << if_.status.to_string();
  EXPECT_EQ(if_.outputs[0].dtype(), DType::kInt32);
  EXPECT_EQ(values_of<int32_t>(if_.outputs[0]), (std::vector<int32_t>{2, 5}));  // 2^2.5 = 5.66 truncates
}

TEST(ElementwiseBinary, BitShiftBothDirections) {
  auto x = make_tensor<uint8_t>({3}, {16, 255, 1});
  auto y = make_tensor<uint8_t>({3}, {1, 4, 8});
  auto left = run_op("BitShift", {x, y}, {{"direction", std::string("LEFT")}});
  ASSERT_TRUE(left.status.is_ok()) << left.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(left.outputs[0]), (std::vector<uint8_t>{32, 240, 0}));
  auto right = run_op("BitShift", {x, y}, {{"direction", std::string("RIGHT")}});
  ASSERT_TRUE(right.status.is_ok()) << right.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(right.outputs[0]), (std::vector<uint8_t>{8, 15, 0}));
}

TEST(ElementwiseBinary, BitShiftRejectsBadDirectionAndSignedInputs) {
  auto x = make_tensor<uint8_t>({1}, {1});
  expect_error(run_op("BitShift", {x, x}, {{"direction", std::string("UP")}}), "'direction'");
  expect_error(run_op("BitShift", {x, x}), "'direction' is missing");
  auto s = make_tensor<int32_t>({1}, {1});
  expect_error(run_op("BitShift", {s, s}, {{"direction", std::string("LEFT")}}), "unsigned");
}

TEST(ElementwiseBinary, LegacyBroadcastWithAxis) {
  // Opset 6: B [2] aligned to axis 0 of A [2, 3] (numpy would align it with axis 1).
  auto a = make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r =
      run_op("Add", {a, make_tensor<float>({2}, {10, 20})}, {{"broadcast", int64_t{1}}, {"axis", int64_t{0}}}, 1, 6);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {11, 12, 13, 24, 25, 26});
  auto suffix = run_op("Mul", {a, make_tensor<float>({3}, {1, 0, 2})}, {{"broadcast", int64_t{1}}}, 1, 6);
  ASSERT_TRUE(suffix.status.is_ok()) << suffix.status.to_string();
  expect_near(suffix.outputs[0], {2, 3}, {1, 0, 6, 4, 0, 12});
}

TEST(ElementwiseBinary, LegacyBroadcastErrors) {
  auto a = make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = make_tensor<float>({3}, {1, 2, 3});
  expect_error(run_op("Add", {a, b}, {}, 1, 6), "'broadcast' is 0");
  expect_error(run_op("Add", {a, b}, {{"broadcast", int64_t{1}}, {"axis", int64_t{0}}}, 1, 6), "at axis 0");
  expect_error(run_op("Add", {a, b}, {{"broadcast", int64_t{1}}, {"axis", int64_t{2}}}, 1, 6), "'axis' 2");
}

// --- comparison and logic -----------------------------------------------------------------

TEST(ElementwiseCompare, OutputsBool) {
  auto a = make_tensor<int64_t>({2, 2}, {1, 2, 3, 4});
  auto b = make_tensor<int64_t>({2}, {2, 2});
  auto expect_bools = [&](const char* op, std::vector<bool> expected) {
    auto r = run_op(op, {a, b});
    ASSERT_TRUE(r.status.is_ok()) << op << ": " << r.status.to_string();
    ASSERT_EQ(r.outputs[0].dtype(), DType::kBool) << op;
    EXPECT_EQ(values_of<bool>(r.outputs[0]), expected) << op;
  };
  expect_bools("Equal", {false, true, false, false});
  expect_bools("Greater", {false, false, true, true});
  expect_bools("Less", {true, false, false, false});
  expect_bools("GreaterOrEqual", {false, true, true, true});
  expect_bools("LessOrEqual", {true, true, false, false});
}

TEST(ElementwiseCompare, NaNIsUnequalAndBoolCompares) {
  auto r = run_op("Equal", {make_tensor<float>({2}, {kNaN, 1.f}), make_tensor<float>({2}, {kNaN, 1.f})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<bool>(r.outputs[0]), (std::vector<bool>{false, true}));
  auto b = run_op("Equal", {make_tensor<bool>({2}, {true, false}), make_tensor<bool>({}, {false})});
  ASSERT_TRUE(b.status.is_ok()) << b.status.to_string();
  EXPECT_EQ(values_of<bool>(b.outputs[0]), (std::vector<bool>{false, true}));
}

TEST(ElementwiseLogic, AndOrXor) {
  auto a = make_tensor<bool>({4}, {true, true, false, false});
  auto b = make_tensor<bool>({4}, {true, false, true, false});
  auto and_ = run_op("And", {a, b});
  auto or_ = run_op("Or", {a, b});
  auto xor_ = run_op("Xor", {a, b});
  ASSERT_TRUE(and_.status.is_ok() && or_.status.is_ok() && xor_.status.is_ok());
  EXPECT_EQ(values_of<bool>(and_.outputs[0]), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values_of<bool>(or_.outputs[0]), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values_of<bool>(xor_.outputs[0]), (std::vector<bool>{false, true, true, false}));
  expect_error(run_op("And", {a, make_tensor<int32_t>({4}, {1, 0, 1, 0})}), "must be bool");
}

// --- variadic and Where -------------------------------------------------------------------

TEST(ElementwiseVariadic, SumMeanMaxMinBroadcast) {
  auto a = make_tensor<float>({2, 2}, {1, 2, 3, 4});
  auto b = make_tensor<float>({2}, {10, 20});
  auto c = make_tensor<float>({}, {-3});
  auto sum = run_op("Sum", {a, b, c});
  ASSERT_TRUE(sum.status.is_ok()) << sum.status.to_string();
  expect_near(sum.outputs[0], {2, 2}, {8, 19, 10, 21});
  auto mean = run_op("Mean", {a, b, c});
  ASSERT_TRUE(mean.status.is_ok()) << mean.status.to_string();
  expect_near(mean.outputs[0], {2, 2}, {8.f / 3, 19.f / 3, 10.f / 3, 7});
  auto max = run_op("Max", {c, a, make_tensor<float>({2}, {2.5f, kNaN})});
  ASSERT_TRUE(max.status.is_ok()) << max.status.to_string();
  EXPECT_FLOAT_EQ(max.outputs[0].data<float>()[0], 2.5f);
  EXPECT_TRUE(std::isnan(max.outputs[0].data<float>()[1]));  // NaN propagates
  EXPECT_FLOAT_EQ(max.outputs[0].data<float>()[2], 3.0f);
  auto min = run_op("Min", {make_tensor<int64_t>({3}, {5, -1, 7})});
  ASSERT_TRUE(min.status.is_ok()) << min.status.to_string();
  EXPECT_EQ(values_of<int64_t>(min.outputs[0]), (std::vector<int64_t>{5, -1, 7}));
  auto min2 = run_op("Min", {make_tensor<int64_t>({3}, {5, -1, 7}), make_tensor<int64_t>({1}, {0})});
  ASSERT_TRUE(min2.status.is_ok()) << min2.status.to_string();
  EXPECT_EQ(values_of<int64_t>(min2.outputs[0]), (std::vector<int64_t>{0, -1, 0}));
}

TEST(ElementwiseVariadic, Opset6RequiresEqualShapes) {
  auto r = run_op("Sum", {make_tensor<float>({2}, {1, 2}), make_tensor<float>({1}, {1})}, {}, 1, 6);
  expect_error(r, "input 1 has shape [1]");
  auto d = run_op("Max", {make_tensor<float>({1}, {1}), make_tensor<double>({1}, {1})});
  expect_error(d, "input 1 has dtype float64");
}

TEST(ElementwiseWhere, BroadcastsAllThree) {
  auto cond = make_tensor<bool>({2, 1}, {true, false});
  auto x = make_tensor<int64_t>({3}, {1, 2, 3});
  auto y = make_tensor<int64_t>({}, {-1});
  auto r = run_op("Where", {cond, x, y});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
  expect_error(run_op("Where", {x, x, y}), "'condition' must be bool");
  expect_error(run_op("Where", {cond, x, make_tensor<int32_t>({}, {1})}), "int64 and int32");
}

// --- Cast ---------------------------------------------------------------------------------

int64_t onnx_code(const char* name) { return ops::onnx_code_from_name(name); }

TEST(ElementwiseCast, FloatToIntTruncatesAndSaturates) {
  auto x = make_tensor<float>({5}, {2.7f, -2.7f, 1e10f, kNaN, -1e10f});
  auto r = run_op("Cast", {x}, {{"to", onnx_code("INT32")}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]),
            (std::vector<int32_t>{2, -2, std::numeric_limits<int32_t>::max(), 0, std::numeric_limits<int32_t>::min()}));
}

TEST(ElementwiseCast, ToFloat16AndBFloat16RoundToNearestEven) {
  auto x = make_tensor<float>({3}, {1.0f + 1.0f / 2048, 70000.0f, 0.48033667f});
  auto h = run_op("Cast", {x}, {{"to", onnx_code("FLOAT16")}});
  ASSERT_TRUE(h.status.is_ok()) << h.status.to_string();
  ASSERT_EQ(h.outputs[0].dtype(), DType::kFloat16);
  EXPECT_EQ(h.outputs[0].data<uint16_t>()[0], 0x3c00);  // the tie rounds to the even 1.0
  EXPECT_EQ(h.outputs[0].data<uint16_t>()[1], 0x7c00);  // overflow -> inf
  auto b = run_op("Cast", {x}, {{"to", onnx_code("BFLOAT16")}});
  ASSERT_TRUE(b.status.is_ok()) << b.status.to_string();
  EXPECT_EQ(b.outputs[0].data<uint16_t>()[2], 16118);  // rounds up (truncation would give 16117)
  auto back = run_op("Cast", {h.outputs[0]}, {{"to", onnx_code("DOUBLE")}});
  ASSERT_TRUE(back.status.is_ok()) << back.status.to_string();
  EXPECT_EQ(values_of<double>(back.outputs[0])[0], 1.0);
  EXPECT_TRUE(std::isinf(values_of<double>(back.outputs[0])[1]));
}

TEST(ElementwiseCast, DoubleToFloat16AvoidsDoubleRounding) {
  // Just above the half-way point between two halves, but rounds to that point as a float.
  const double v = 1.0 + 1.0 / 2048 + 1.0 / (1 << 30);
  auto r = run_op("Cast", {make_tensor<double>({1}, {v})}, {{"to", onnx_code("FLOAT16")}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].data<uint16_t>()[0], 0x3c01);
}

TEST(ElementwiseCast, BoolIntegerAndLegacyStringTo) {
  auto x = make_tensor<float>({3}, {0.0f, -0.5f, kNaN});
  auto b = run_op("Cast", {x}, {{"to", onnx_code("BOOL")}});
  ASSERT_TRUE(b.status.is_ok()) << b.status.to_string();
  EXPECT_EQ(values_of<bool>(b.outputs[0]), (std::vector<bool>{false, true, true}));
  auto wrap = run_op("Cast", {make_tensor<int32_t>({2}, {300, -1})}, {{"to", onnx_code("UINT8")}});
  ASSERT_TRUE(wrap.status.is_ok()) << wrap.status.to_string();
  EXPECT_EQ(values_of<uint8_t>(wrap.outputs[0]), (std::vector<uint8_t>{44, 255}));
  auto legacy = run_op("Cast", {make_tensor<bool>({2}, {true, false})}, {{"to", std::string("FLOAT")}}, 1, 1);
  ASSERT_TRUE(legacy.status.is_ok()) << legacy.status.to_string();
  expect_near(legacy.outputs[0], {2}, {1.0f, 0.0f});
}

TEST(ElementwiseCast, CastLikeTakesTheSecondInputsDtype) {
  auto r = run_op("CastLike", {make_tensor<int64_t>({2}, {3, -4}), make_tensor<double>({1}, {0.0})});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<double>(r.outputs[0]), (std::vector<double>{3.0, -4.0}));
}

TEST(ElementwiseCast, UnsupportedAndInvalidTargets) {
  auto x = make_tensor<float>({1}, {1.0f});
  auto s = run_op("Cast", {x}, {{"to", onnx_code("STRING")}});
  EXPECT_EQ(s.status.code(), StatusCode::kUnimplemented);
  expect_error(s, "STRING");
  expect_error(run_op("Cast", {x}, {{"to", int64_t{99}}}), "'to'");
  expect_error(run_op("Cast", {x}), "'to' is missing");
  expect_error(run_op("Cast", {x}, {{"to", std::string("FLOAT")}}), "'to' must be int");
}

// --- schema -------------------------------------------------------------------------------

TEST(ElementwiseSchema, TraitsMarkFusableActivations) {
  for (const char* op : {"Relu", "Sigmoid", "Clip", "LeakyRelu", "Add", "HardSwish", "PRelu"}) {
    const ops::OpSchema* s = ops::find_schema("", op);
    ASSERT_NE(s, nullptr) << op;
    EXPECT_TRUE(s->traits & ops::kElementwise) << op;
    EXPECT_TRUE(s->traits & ops::kEpilogueFusable) << op;
  }
  for (const char* op : {"Cast", "Where", "Equal", "Div", "Sum"}) {
    const ops::OpSchema* s = ops::find_schema("", op);
    ASSERT_NE(s, nullptr) << op;
    EXPECT_TRUE(s->traits & ops::kElementwise) << op;
    EXPECT_FALSE(s->traits & ops::kEpilogueFusable) << op;
  }
  EXPECT_EQ(ops::find_schema("", "Round")->min_opset, 11);
  expect_error(run_op("Celu", {make_tensor<float>({1}, {1.0f})}, {}, 1, 11), "before opset 12");
}

}  // namespace
}  // namespace fulcrum::testing
