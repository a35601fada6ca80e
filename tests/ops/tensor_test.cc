// Tensor movement ops that view or copy: Constant, Identity, Reshape, Flatten, Squeeze,
// Unsqueeze, Shape, Size, Transpose, Concat, Split, Slice, Expand, Tile, DepthToSpace,
// SpaceToDepth. Expected values are computed by hand (or from the ONNX operator docs).
#include <cstdint>
#include <limits>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;
using I64 = std::vector<int64_t>;

Tensor i64(Shape shape, const I64& values) { return make_tensor<int64_t>(std::move(shape), values); }
Tensor f32(Shape shape, const std::vector<float>& values) { return make_tensor<float>(std::move(shape), values); }

// 0, 1, 2, ... as float32 of the given shape.
Tensor iota(Shape shape) {
  Tensor t = Tensor::zeros(DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = static_cast<float>(i);
  return t;
}

TEST(Constant, ValueFloatsAndInts) {
  auto r = run_op("Constant", {}, Attributes{{"value_floats", std::vector<float>{1.5f, -2.f}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2}, {1.5f, -2.f});
  r = run_op("Constant", {}, Attributes{{"value_int", int64_t{7}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {}, {7});
  r = run_op("Constant", {}, Attributes{{"value", i64({2, 2}, {1, 2, 3, 4})}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2, 2}, {1, 2, 3, 4});
}

TEST(Constant, StringsAreUnimplementedAndMissingValueIsAnError) {
  auto r = run_op("Constant", {}, Attributes{{"value_string", std::string("hi")}});
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_EQ(r.status.code(), StatusCode::kUnimplemented);
  expect_error(r, "value_string");
  expect_error(run_op("Constant", {}, Attributes{}), "exactly one");
}

TEST(Identity, SharesStorage) {
  Tensor x = f32({3}, {1.f, 2.f, 3.f});
  auto r = run_op("Identity", {x});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].raw(), x.raw());
  expect_near(r.outputs[0], {3}, {1.f, 2.f, 3.f});
}

TEST(Reshape, ZeroCopiesAndMinusOneInfers) {
  auto r = run_op("Reshape", {iota({2, 3, 4}), i64({3}, {0, -1, 2})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(r.outputs[0].data<float>()[23], 23.f);
}

TEST(Reshape, AllowZeroKeepsLiteralZero) {
  auto r = run_op("Reshape", {iota({0, 3}), i64({2}, {3, 0})}, Attributes{{"allowzero", int64_t{1}}});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies input dim 1 (3), and 3 * 3 != 0 elements.
  expect_error(run_op("Reshape", {iota({0, 3}), i64({2}, {3, 0})}), "cannot reshape");
}

TEST(Reshape, Opset1ReadsTheShapeAttribute) {
  auto r = run_op("Reshape", {iota({2, 3})}, Attributes{{"shape", I64{3, -1}}}, 1, 1);
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 2}));
}

TEST(Reshape, RejectsBadShapes) {
  expect_error(run_op("Reshape", {iota({2, 3}), i64({2}, {4, 2})}), "[2, 3]");
  expect_error(run_op("Reshape", {iota({2, 3}), i64({2}, {-1, -1})}), "more than one -1");
  expect_error(run_op("Reshape", {iota({2, 3}), i64({3}, {0, 0, 0})}), "copies an input dimension");
  expect_error(run_op("Reshape", {iota({2, 3}), f32({1}, {6.f})}), "'shape' must be an integer tensor");
}

TEST(Flatten, AxisZeroAndNegative) {
  auto r = run_op("Flatten", {iota({2, 3, 4})}, Attributes{{"axis", int64_t{0}}});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 24}));
  r = run_op("Flatten", {iota({2, 3, 4})}, Attributes{{"axis", int64_t{-1}}});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{6, 4}));
  expect_error(run_op("Flatten", {iota({2, 3})}, Attributes{{"axis", int64_t{3}}}), "'axis'");
}

TEST(Squeeze, AxesInputAndAttribute) {
  auto r = run_op("Squeeze", {iota({1, 3, 1, 2}), i64({1}, {-2})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 3, 2}));
  r = run_op("Squeeze", {iota({1, 3, 1, 2})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 2}));
  r = run_op("Squeeze", {iota({1, 3, 1, 2})}, Attributes{{"axes", I64{0}}}, 1, 11);
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 1, 2}));
  expect_error(run_op("Squeeze", {iota({1, 3}), i64({1}, {1})}), "cannot squeeze axis 1 of size 3");
}

TEST(Unsqueeze, UnsortedAxesIndexTheOutput) {
  auto r = run_op("Unsqueeze", {iota({3, 4}), i64({2}, {3, 0})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 3, 4, 1}));
  r = run_op("Unsqueeze", {iota({3})}, Attributes{{"axes", I64{-1}}}, 1, 11);
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 1}));
  expect_error(run_op("Unsqueeze", {iota({3}), i64({2}, {0, 0})}), "repeat");
  expect_error(run_op("Unsqueeze", {iota({3}), i64({1}, {5})}), "unsqueeze axis 5");
}

TEST(ShapeAndSize, StartEndAndCount) {
  auto r = run_op("Shape", {iota({2, 3, 4, 5})}, Attributes{{"start", int64_t{1}}, {"end", int64_t{-1}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2}, {3, 4});
  r = run_op("Shape", {iota({2, 3})}, Attributes{{"start", int64_t{-10}}, {"end", int64_t{10}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2}, {2, 3});
  r = run_op("Size", {iota({2, 3, 4})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {}, {24});
}

TEST(Transpose, DefaultReversesAxes) {
  auto r = run_op("Transpose", {iota({2, 3})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 2}, {0, 3, 1, 4, 2, 5});
}

TEST(Transpose, AttentionHeadsPermutationMatchesNaive) {
  // [1, 4, 3, 2] -> [1, 3, 4, 2], the BERT head split.
  auto r = run_op("Transpose", {iota({1, 4, 3, 2})}, Attributes{{"perm", I64{0, 2, 1, 3}}});
  ASSERT_OK(r);
  std::vector<float> expected;
  for (int h = 0; h < 3; ++h)
    for (int s = 0; s < 4; ++s)
      for (int d = 0; d < 2; ++d) expected.push_back(static_cast<float>(s * 6 + h * 2 + d));
  expect_near(r.outputs[0], {1, 3, 4, 2}, expected);
}

TEST(Transpose, MovesFloat16AndBool) {
  Tensor h = Tensor::zeros(DType::kFloat16, {2, 2});
  for (uint16_t i = 0; i < 4; ++i) h.mutable_data<uint16_t>()[i] = static_cast<uint16_t>(0x3c00 + i);
  auto r = run_op("Transpose", {h});
  ASSERT_OK(r);
  ASSERT_EQ(r.outputs[0].dtype(), DType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(r.outputs[0]), (std::vector<uint16_t>{0x3c00, 0x3c02, 0x3c01, 0x3c03}));
  r = run_op("Transpose", {make_tensor<bool>({1, 3}, {true, false, true})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{3, 1}));
  EXPECT_EQ(values_of<bool>(r.outputs[0]), (std::vector<bool>{true, false, true}));
}

TEST(Transpose, RejectsBadPerm) {
  expect_error(run_op("Transpose", {iota({2, 3})}, Attributes{{"perm", I64{0, 0}}}), "'perm'");
  expect_error(run_op("Transpose", {iota({2, 3})}, Attributes{{"perm", I64{0}}}), "'perm'");
}

TEST(Concat, MiddleAxisAndNegativeAxis) {
  auto r = run_op("Concat", {i64({2, 1}, {1, 2}), i64({2, 2}, {3, 4, 5, 6})}, Attributes{{"axis", int64_t{-1}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2, 3}, {1, 3, 4, 2, 5, 6});
  r = run_op("Concat", {i64({1, 2}, {1, 2}), i64({0, 2}, {}), i64({1, 2}, {3, 4})}, Attributes{{"axis", int64_t{0}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2, 2}, {1, 2, 3, 4});
}

TEST(Concat, RejectsMismatchedShapesAndAxis) {
  expect_error(run_op("Concat", {iota({2, 2}), iota({3, 3})}, Attributes{{"axis", int64_t{0}}}), "input 1");
  expect_error(run_op("Concat", {iota({2, 2}), iota({2, 2})}, Attributes{{"axis", int64_t{2}}}), "'axis' 2");
  expect_error(run_op("Concat", {iota({2}), i64({2}, {1, 2})}, Attributes{{"axis", int64_t{0}}}), "int64");
}

TEST(Split, EqualAndVariableParts) {
  auto r = run_op("Split", {iota({2, 4})}, Attributes{{"axis", int64_t{1}}}, 2);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 2}, {0, 1, 4, 5});
  expect_near(r.outputs[1], {2, 2}, {2, 3, 6, 7});
  r = run_op("Split", {iota({5}), i64({2}, {2, 3})}, {}, 2);
  ASSERT_OK(r);
  expect_near(r.outputs[1], {3}, {2, 3, 4});
  r = run_op("Split", {iota({5})}, Attributes{{"split", I64{4, 1}}}, 2, 11);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {4}, {0, 1, 2, 3});
}

TEST(Split, UnevenDefaultPutsTheRemainderLast) {
  auto r = run_op("Split", {iota({5})}, {}, 2);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3}, {0, 1, 2});
  expect_near(r.outputs[1], {2}, {3, 4});
}

TEST(Split, EmptySplitInputMeansEqualParts) {
  auto r = run_op("Split", {iota({4}), i64({0}, {})}, {}, 2);
  ASSERT_OK(r);
  expect_near(r.outputs[1], {2}, {2, 3});
}

TEST(Split, RejectsSizesThatDoNotSum) {
  expect_error(run_op("Split", {iota({5}), i64({2}, {2, 2})}, {}, 2), "sum to 4");
  expect_error(run_op("Split", {iota({5})}, Attributes{{"axis", int64_t{1}}}, 2), "'axis' 1");
}

TEST(Slice, StepsAxesAndClamping) {
  // x[0:1, 1:1000:2] of a 2x5 -> [[1, 3]]
  auto r = run_op("Slice", {iota({2, 5}), i64({2}, {0, 1}), i64({2}, {1, 1000}), i64({2}, {0, 1}), i64({2}, {1, 2})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 2}, {1, 3});
}

TEST(Slice, NegativeStepWithIntMaxAndIntMinEnds) {
  const int64_t max = std::numeric_limits<int64_t>::max(), min = std::numeric_limits<int64_t>::min();
  // Reverse a whole axis: start INT64_MAX clamps to dim - 1, end INT64_MIN to -1.
  auto r = run_op("Slice", {iota({4}), i64({1}, {max}), i64({1}, {min}), Tensor(), i64({1}, {-1})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {4}, {3, 2, 1, 0});
  r = run_op("Slice", {iota({2, 4}), i64({1}, {-1}), i64({1}, {0}), i64({1}, {-1}), i64({1}, {-2})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 2}, {3, 1, 7, 5});
  // Start past the end gives an empty axis.
  r = run_op("Slice", {iota({4}), i64({1}, {10}), i64({1}, {max})});
  ASSERT_OK(r);
  EXPECT_EQ(r.outputs[0].shape(), (Shape{0}));
}

TEST(Slice, Opset9ReadsAttributes) {
  auto r = run_op("Slice", {iota({3, 3})}, Attributes{{"starts", I64{1}}, {"ends", I64{-1}}, {"axes", I64{1}}}, 1, 9);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 1}, {1, 4, 7});
}

TEST(Slice, RejectsZeroStepAndRepeatedAxes) {
  expect_error(run_op("Slice", {iota({4}), i64({1}, {0}), i64({1}, {4}), i64({1}, {0}), i64({1}, {0})}), "step");
  expect_error(run_op("Slice", {iota({4, 4}), i64({2}, {0, 0}), i64({2}, {1, 1}), i64({2}, {1, -1})}), "repeat");
  expect_error(run_op("Slice", {iota({4}), i64({1}, {0}), i64({1}, {1}), i64({1}, {1})}), "slice axis 1");
}

TEST(Expand, BroadcastsBothWays) {
  auto r = run_op("Expand", {f32({3, 1}, {1, 2, 3}), i64({3}, {2, 1, 2})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  expect_error(run_op("Expand", {f32({3}, {1, 2, 3}), i64({1}, {2})}), "cannot be broadcast");
}

TEST(Tile, RepeatsEachAxis) {
  auto r = run_op("Tile", {i64({2, 2}, {1, 2, 3, 4}), i64({2}, {2, 1})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {4, 2}, {1, 2, 3, 4, 1, 2, 3, 4});
  r = run_op("Tile", {i64({1, 2}, {1, 2}), i64({2}, {1, 3})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {1, 6}, {1, 2, 1, 2, 1, 2});
  expect_error(run_op("Tile", {iota({2}), i64({2}, {1, 1})}), "'repeats'");
}

TEST(DepthToSpace, DcrAndCrdModes) {
  // ONNX docs example: x = arange(8).reshape(1, 8, 1, 1)... with blocksize 2 -> [1, 2, 2, 2].
  auto r = run_op("DepthToSpace", {iota({1, 8, 1, 1})}, Attributes{{"blocksize", int64_t{2}}});
  ASSERT_OK(r);
  // DCR: out[c, i, j] = in[(i * 2 + j) * 2 + c]
  expect_near(r.outputs[0], {1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7});
  r = run_op("DepthToSpace", {iota({1, 8, 1, 1})}, Attributes{{"blocksize", int64_t{2}}, {"mode", std::string("CRD")}});
  ASSERT_OK(r);
  // CRD: out[c, i, j] = in[c * 4 + i * 2 + j]
  expect_near(r.outputs[0], {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  expect_error(run_op("DepthToSpace", {iota({1, 6, 1, 1})}, Attributes{{"blocksize", int64_t{2}}}), "divisible");
}

TEST(SpaceToDepth, InvertsDepthToSpaceDcr) {
  auto r = run_op("SpaceToDepth", {iota({1, 2, 2, 2})}, Attributes{{"blocksize", int64_t{2}}});
  ASSERT_OK(r);
  // out[(i * 2 + j) * 2 + c] = in[c, i, j]
  expect_near(r.outputs[0], {1, 8, 1, 1}, {0, 4, 1, 5, 2, 6, 3, 7});
  expect_error(run_op("SpaceToDepth", {iota({1, 1, 3, 2})}, Attributes{{"blocksize", int64_t{2}}}), "divisible");
  expect_error(run_op("SpaceToDepth", {iota({2, 2})}, Attributes{{"blocksize", int64_t{2}}}), "4-D");
}

}  // namespace
}  // namespace fulcrum::testing
