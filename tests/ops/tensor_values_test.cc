// Tensor ops that pad, select or generate values: Pad, Compress, ReverseSequence, NonZero,
// ConstantOfShape, Range, EyeLike, OneHot, Trilu, CumSum. Expected values are hand-computed.
#include <cstdint>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;
using I64 = std::vector<int64_t>;

Tensor i64(Shape shape, const I64& values) { return make_tensor<int64_t>(std::move(shape), values); }
Tensor f32(Shape shape, const std::vector<float>& values) { return make_tensor<float>(std::move(shape), values); }
Tensor scalar_f32(float v) { return make_tensor<float>({}, {v}); }

TEST(Pad, ConstantWithValueInput) {
  auto r = run_op("Pad", {f32({2, 2}, {1, 2, 3, 4}), i64({4}, {0, 1, 1, 0}), scalar_f32(9.f)});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 3}, {9, 1, 2, 9, 3, 4, 9, 9, 9});
  // constant_value omitted: zeros.
  r = run_op("Pad", {f32({1, 2}, {1, 2}), i64({4}, {0, 1, 0, 0})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 3}, {0, 1, 2});
}

TEST(Pad, ReflectAndEdge) {
  Tensor x = f32({1, 3}, {1, 2, 3});
  auto r = run_op("Pad", {x, i64({4}, {0, 2, 0, 2})}, Attributes{{"mode", std::string("reflect")}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 7}, {3, 2, 1, 2, 3, 2, 1});
  r = run_op("Pad", {x, i64({4}, {0, 2, 0, 1})}, Attributes{{"mode", std::string("edge")}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 6}, {1, 1, 1, 2, 3, 3});
  // Reflecting farther than the axis keeps bouncing, as numpy does.
  r = run_op("Pad", {x, i64({4}, {0, 4, 0, 2})}, Attributes{{"mode", std::string("reflect")}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 9}, {1, 2, 3, 2, 1, 2, 3, 2, 1});
}

TEST(Pad, NegativePadsCrop) {
  auto r = run_op("Pad", {f32({1, 4}, {1, 2, 3, 4}), i64({4}, {0, -1, 0, 1})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 4}, {2, 3, 4, 0});
}

TEST(Pad, Opset2AttributesAndOpset18Axes) {
  auto r = run_op("Pad", {i64({2}, {5, 6})}, Attributes{{"pads", I64{1, 1}}, {"value", 7.f}}, 1, 2);
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {4}, {7, 5, 6, 7});
  r = run_op("Pad", {f32({2, 2}, {1, 2, 3, 4}), i64({2}, {1, 0}), Tensor(), i64({1}, {-1})}, {}, 1, 18);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3}, {0, 1, 2, 0, 3, 4});
}

TEST(Pad, RejectsBadPads) {
  expect_error(run_op("Pad", {f32({2, 2}, {1, 2, 3, 4}), i64({2}, {1, 1})}), "'pads' has 2 entries");
  expect_error(run_op("Pad", {f32({2}, {1, 2}), i64({2}, {-2, -1})}), "negative size");
  expect_error(run_op("Pad", {f32({0}, {}), i64({2}, {1, 0})}, Attributes{{"mode", std::string("edge")}}), "empty");
  expect_error(run_op("Pad", {f32({2}, {1, 2}), i64({2}, {1, 0})}, Attributes{{"mode", std::string("wrap")}}), "mode");
}

TEST(Compress, AlongAxisAndFlattened) {
  Tensor x = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  auto r = run_op("Compress", {x, make_tensor<bool>({3}, {false, true, true})}, Attributes{{"axis", int64_t{0}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 2}, {3, 4, 5, 6});
  r = run_op("Compress", {x, make_tensor<bool>({2}, {false, true})}, Attributes{{"axis", int64_t{-1}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 1}, {2, 4, 6});
  r = run_op("Compress", {x, make_tensor<bool>({5}, {false, true, false, false, true})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2}, {2, 5});
  expect_error(
      run_op("Compress", {x, make_tensor<bool>({4}, {false, false, false, true})}, Attributes{{"axis", int64_t{0}}}),
      "selects index 3");
}

TEST(ReverseSequence, TimeMajorAndBatchMajor) {
  // [time 3, batch 2]: batch 0 reverses 3 steps, batch 1 reverses 2.
  auto r = run_op("ReverseSequence", {f32({3, 2}, {0, 1, 2, 3, 4, 5}), i64({2}, {3, 2})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 2}, {4, 3, 2, 1, 0, 5});
  r = run_op("ReverseSequence", {f32({2, 3}, {0, 1, 2, 3, 4, 5}), i64({2}, {1, 3})},
             Attributes{{"batch_axis", int64_t{0}}, {"time_axis", int64_t{1}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3}, {0, 1, 2, 5, 4, 3});
  expect_error(run_op("ReverseSequence", {f32({3, 2}, {0, 1, 2, 3, 4, 5}), i64({2}, {4, 1})}), "sequence length 4");
}

TEST(NonZero, CoordinatesInRowMajorOrder) {
  auto r = run_op("NonZero", {f32({2, 2}, {1, 0, -0.f, 3})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2, 2}, {0, 1, 0, 1});
  r = run_op("NonZero", {make_tensor<bool>({3}, {false, false, false})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {1, 0}, {});
}

TEST(ConstantOfShape, ValueAndDefault) {
  auto r = run_op("ConstantOfShape", {i64({2}, {2, 3})}, Attributes{{"value", make_tensor<int32_t>({1}, {7})}});
  ASSERT_OK(r);
  ASSERT_EQ(r.outputs[0].dtype(), DType::kInt32);
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), std::vector<int32_t>(6, 7));
  r = run_op("ConstantOfShape", {i64({1}, {0})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {0}, {});
  r = run_op("ConstantOfShape", {i64({0}, {})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {}, {0.f});
  expect_error(run_op("ConstantOfShape", {i64({1}, {-1})}), "negative");
  expect_error(run_op("ConstantOfShape", {i64({1}, {2})}, Attributes{{"value", f32({2}, {1, 2})}}), "exactly one");
}

TEST(Range, FloatAndNegativeIntDelta) {
  auto r = run_op("Range", {scalar_f32(1.f), scalar_f32(2.f), scalar_f32(0.3f)});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {4}, {1.f, 1.3f, 1.6f, 1.9f});
  r = run_op("Range", {make_tensor<int32_t>({}, {10}), make_tensor<int32_t>({}, {4}), make_tensor<int32_t>({}, {-3})});
  ASSERT_OK(r);
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{10, 7}));
  r = run_op("Range", {i64({}, {5}), i64({}, {1}), i64({}, {2})});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {0}, {});
  expect_error(run_op("Range", {i64({}, {0}), i64({}, {1}), i64({}, {0})}), "'delta' is 0");
  expect_error(run_op("Range", {i64({}, {0}), scalar_f32(1.f), i64({}, {1})}), "different dtypes");
  expect_error(run_op("Range", {i64({}, {0}), i64({}, {1})}), "required input 2 ('delta') is missing");
}

TEST(EyeLike, OffsetDiagonalAndDtype) {
  auto r = run_op("EyeLike", {f32({2, 3}, {5, 5, 5, 5, 5, 5})}, Attributes{{"k", int64_t{1}}, {"dtype", int64_t{7}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {2, 3}, {0, 1, 0, 0, 0, 1});
  r = run_op("EyeLike", {f32({2, 2}, {5, 5, 5, 5})}, Attributes{{"k", int64_t{-1}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 2}, {0, 0, 1, 0});
  expect_error(run_op("EyeLike", {f32({2}, {1, 2})}), "2-D");
}

TEST(OneHot, AxisAndNegativeIndices) {
  Tensor values = f32({2}, {0.f, 5.f});
  auto r = run_op("OneHot", {i64({2}, {1, -1}), scalar_f32(3.f), values});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3}, {0, 5, 0, 0, 0, 5});
  r = run_op("OneHot", {i64({2}, {1, 7}), i64({}, {3}), values}, Attributes{{"axis", int64_t{0}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 2}, {0, 0, 5, 0, 0, 0});
  // Opset 9: negative indices are out of range, so all off.
  r = run_op("OneHot", {i64({1}, {-1}), i64({}, {2}), values}, {}, 1, 9);
  ASSERT_OK(r);
  expect_near(r.outputs[0], {1, 2}, {0, 0});
  expect_error(run_op("OneHot", {i64({1}, {0}), i64({}, {2}), f32({1}, {1})}), "'values'");
  expect_error(run_op("OneHot", {i64({1}, {0}), i64({}, {2}), values}, Attributes{{"axis", int64_t{3}}}), "'axis'");
}

TEST(Trilu, UpperAndLowerWithK) {
  Tensor x = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto r = run_op("Trilu", {x});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9});
  r = run_op("Trilu", {x, i64({}, {-1})}, Attributes{{"upper", int64_t{0}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0});
  r = run_op("Trilu", {x, i64({}, {1})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0});
  expect_error(run_op("Trilu", {f32({2}, {1, 2})}), "rank >= 2");
}

TEST(CumSum, ExclusiveReverseAndAxis) {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_op("CumSum", {x, i64({}, {1})});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3}, {1, 3, 6, 4, 9, 15});
  r = run_op("CumSum", {x, make_tensor<int32_t>({1}, {0})}, Attributes{{"exclusive", int64_t{1}}});
  ASSERT_OK(r);
  expect_near(r.outputs[0], {2, 3}, {0, 0, 0, 1, 2, 3});
  r = run_op("CumSum", {i64({4}, {1, 2, 3, 4}), i64({}, {-1})},
             Attributes{{"exclusive", int64_t{1}}, {"reverse", int64_t{1}}});
  ASSERT_OK(r);
  expect_i64(r.outputs[0], {4}, {9, 7, 4, 0});
  expect_error(run_op("CumSum", {x, i64({}, {2})}), "'axis' 2");
}

}  // namespace
}  // namespace fulcrum::testing
