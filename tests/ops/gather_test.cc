#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

// [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
Tensor three_by_three() { return make_tensor<float>({3, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f}); }

TEST(Gather, AxisOneWithNegativeIndices) {
  auto r = run_op("Gather", {three_by_three(), make_tensor<int64_t>({1, 2}, {0, -1})}, {{"axis", int64_t{1}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3, 1, 2}, {1.f, 3.f, 4.f, 6.f, 7.f, 9.f});
}

TEST(Gather, ScalarIndexDropsTheAxis) {
  Tensor data = make_tensor<int64_t>({2, 2}, {10, 11, 12, 13});
  auto r = run_op("Gather", {data, make_tensor<int32_t>({}, {1})}, {}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{2}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{12, 13}));
}

TEST(Gather, RejectsIndexOutOfRange) {
  auto r = run_op("Gather", {three_by_three(), make_tensor<int64_t>({1}, {3})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("index 3 is out of range"), std::string::npos) << r.status.message();
}

TEST(Gather, RejectsFloatIndices) {
  auto r = run_op("Gather", {three_by_three(), make_tensor<float>({1}, {0.f})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'indices'"), std::string::npos) << r.status.message();
}

TEST(GatherElements, PicksAlongAxis) {
  Tensor indices = make_tensor<int64_t>({2, 3}, {1, 2, 0, -1, 0, 0});
  auto r = run_op("GatherElements", {three_by_three(), indices}, {{"axis", int64_t{0}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 3}, {4.f, 8.f, 3.f, 7.f, 2.f, 3.f});
}

TEST(GatherElements, RejectsRankMismatch) {
  auto r = run_op("GatherElements", {three_by_three(), make_tensor<int64_t>({2}, {0, 1})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("same rank"), std::string::npos) << r.status.message();
}

TEST(GatherND, SlicesWithBatchDims) {
  Tensor data = make_tensor<int32_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto r = run_op("GatherND", {data, make_tensor<int64_t>({2, 1}, {1, 0})}, {{"batch_dims", int64_t{1}}}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<int32_t>(r.outputs[0]), (std::vector<int32_t>{2, 3, 4, 5}));
}

TEST(GatherND, FullIndexTuplesPickElements) {
  auto r = run_op("GatherND", {three_by_three(), make_tensor<int64_t>({2, 2}, {0, 2, -1, 1})}, {}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2}, {3.f, 8.f});
}

TEST(GatherND, RejectsIndexTupleLongerThanData) {
  auto r = run_op("GatherND", {three_by_three(), make_tensor<int64_t>({1, 3}, {0, 0, 0})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("last dim of 'indices'"), std::string::npos) << r.status.message();
}

TEST(ScatterElements, AddAccumulatesDuplicates) {
  Tensor data = make_tensor<float>({1, 4}, {1.f, 1.f, 1.f, 1.f});
  Tensor indices = make_tensor<int64_t>({1, 3}, {1, 1, -1});
  Tensor updates = make_tensor<float>({1, 3}, {2.f, 3.f, 5.f});
  auto r = run_op("ScatterElements", {data, indices, updates},
                  {{"axis", int64_t{1}}, {"reduction", std::string("add")}}, 1, 16);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 4}, {1.f, 6.f, 1.f, 6.f});
}

TEST(ScatterElements, ScatterAliasReplacesAlongAxisZero) {
  Tensor data = make_tensor<float>({3, 2}, {0.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  Tensor indices = make_tensor<int64_t>({1, 2}, {2, 0});
  Tensor updates = make_tensor<float>({1, 2}, {7.f, 8.f});
  auto r = run_op("Scatter", {data, indices, updates}, {}, 1, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3, 2}, {0.f, 8.f, 0.f, 0.f, 7.f, 0.f});
}

TEST(ScatterElements, RejectsUpdatesShapeMismatch) {
  Tensor data = make_tensor<float>({1, 4}, {1.f, 1.f, 1.f, 1.f});
  auto r = run_op("ScatterElements",
                  {data, make_tensor<int64_t>({1, 2}, {0, 1}), make_tensor<float>({1, 3}, {1.f, 2.f, 3.f})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'updates'"), std::string::npos) << r.status.message();
}

TEST(ScatterND, MultipliesRows) {
  Tensor data = make_tensor<float>({3, 2}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
  Tensor indices = make_tensor<int64_t>({2, 1}, {2, 2});
  Tensor updates = make_tensor<float>({2, 2}, {2.f, 3.f, 10.f, 10.f});
  auto r = run_op("ScatterND", {data, indices, updates}, {{"reduction", std::string("mul")}}, 1, 16);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3, 2}, {1.f, 2.f, 3.f, 4.f, 100.f, 180.f});
}

TEST(ScatterND, ReplacesSingleElements) {
  Tensor data = make_tensor<int64_t>({2, 2}, {1, 2, 3, 4});
  Tensor indices = make_tensor<int64_t>({2, 2}, {0, 1, 1, 0});
  Tensor updates = make_tensor<int64_t>({2}, {20, 30});
  auto r = run_op("ScatterND", {data, indices, updates}, {}, 1, 13);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{1, 20, 30, 4}));
}

TEST(ScatterND, RejectsWrongUpdatesShape) {
  Tensor data = make_tensor<float>({3, 2}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
  auto r =
      run_op("ScatterND", {data, make_tensor<int64_t>({1, 1}, {0}), make_tensor<float>({2}, {1.f, 2.f})}, {}, 1, 13);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("must have shape [1, 2]"), std::string::npos) << r.status.message();
}

TEST(ScatterND, RejectsUnknownReduction) {
  Tensor data = make_tensor<float>({2}, {1.f, 2.f});
  auto r = run_op("ScatterND", {data, make_tensor<int64_t>({1, 1}, {0}), make_tensor<float>({1}, {1.f})},
                  {{"reduction", std::string("avg")}}, 1, 16);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("'reduction'"), std::string::npos) << r.status.message();
}

}  // namespace
}  // namespace fulcrum::testing
