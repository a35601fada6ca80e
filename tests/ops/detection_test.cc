// NonMaxSuppression, RoiAlign, GridSample, Unique and Det against hand-computed results.
#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;

// 2x2 image [[1, 2], [3, 4]] as [1, 1, 2, 2].
Tensor image() { return make_tensor<float>({1, 1, 2, 2}, {1.f, 2.f, 3.f, 4.f}); }

// Box 1 overlaps box 0 with IoU 0.9 / 1.1; box 2 is disjoint from both.
Tensor three_boxes() {
  return make_tensor<float>({1, 3, 4}, {0.f, 0.f, 1.f, 1.f, 0.f, 0.1f, 1.f, 1.1f, 0.f, 2.f, 1.f, 3.f});
}

OpRun nms(const Tensor& boxes, const Tensor& scores, int64_t max_boxes, float iou, float score,
          const Attributes& a = {}) {
  return run_op("NonMaxSuppression",
                {boxes, scores, make_tensor<int64_t>({1}, {max_boxes}), make_tensor<float>({1}, {iou}),
                 make_tensor<float>({1}, {score})},
                a, 1, 11);
}

TEST(NonMaxSuppression, SuppressesOverlapsInScoreOrder) {
  auto r = nms(three_boxes(), make_tensor<float>({1, 1, 3}, {0.8f, 0.9f, 0.7f}), 3, 0.5f, 0.f);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{0, 0, 1, 0, 0, 2}));
}

TEST(NonMaxSuppression, ScoreThresholdAndLimitPerClass) {
  // Class 0 keeps only its best box (limit 1); class 1 drops box 2, whose score is below 0.3.
  auto scores = make_tensor<float>({1, 2, 3}, {0.5f, 0.4f, 0.9f, 0.6f, 0.95f, 0.2f});
  auto r = nms(three_boxes(), scores, 1, 1.f, 0.3f);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{0, 0, 2, 0, 1, 1}));
}

TEST(NonMaxSuppression, CenterPointBoxes) {
  // [x_center, y_center, w, h]: boxes 0 and 1 coincide, box 2 is elsewhere.
  auto boxes = make_tensor<float>({1, 3, 4}, {0.5f, 0.5f, 1.f, 1.f, 0.5f, 0.5f, 1.f, 1.f, 5.f, 5.f, 1.f, 1.f});
  auto r =
      nms(boxes, make_tensor<float>({1, 1, 3}, {0.9f, 0.9f, 0.1f}), 5, 0.5f, 0.f, {{"center_point_box", int64_t{1}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{0, 0, 0, 0, 0, 2}));
}

TEST(NonMaxSuppression, NoLimitSelectsNothing) {
  auto r = run_op("NonMaxSuppression", {three_boxes(), make_tensor<float>({1, 1, 3}, {0.8f, 0.9f, 0.7f})}, {}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), (Shape{0, 3}));
}

TEST(NonMaxSuppression, RejectsBadShapes) {
  expect_invalid_argument(
      nms(make_tensor<float>({1, 1, 3}, {0.f, 0.f, 1.f}), make_tensor<float>({1, 1, 1}, {1.f}), 1, .5f, 0.f),
      "'boxes'");
  expect_invalid_argument(nms(three_boxes(), make_tensor<float>({1, 1, 2}, {1.f, 1.f}), 1, .5f, 0.f), "'scores'");
  expect_invalid_argument(nms(three_boxes(), make_tensor<float>({1, 1, 3}, {1.f, 1.f, 1.f}), 1, 1.5f, 0.f),
                          "'iou_threshold'");
}

OpRun roi_align(const Tensor& rois, const Tensor& batch, Attributes a, int64_t opset) {
  a["output_height"] = int64_t{1};
  a["output_width"] = int64_t{1};
  a["sampling_ratio"] = int64_t{1};
  return run_op("RoiAlign", {image(), rois, batch}, a, 1, opset);
}

TEST(RoiAlign, OutputHalfPixelSamplesTheBinCenter) {
  // RoiAlign-10: the single sample of roi [0, 0, 1, 1] is at pixel (0.5, 0.5).
  auto r = roi_align(make_tensor<float>({1, 4}, {0.f, 0.f, 1.f, 1.f}), make_tensor<int64_t>({1}, {0}), {}, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {2.5f});
}

TEST(RoiAlign, HalfPixelShiftsTheRoi) {
  // RoiAlign-16 defaults to half_pixel: the roi becomes [-0.5, 0.5], sampled at pixel (0, 0).
  auto r = roi_align(make_tensor<float>({1, 4}, {0.f, 0.f, 1.f, 1.f}), make_tensor<int64_t>({1}, {0}), {}, 16);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {1.f});
}

TEST(RoiAlign, MaxModeTakesTheLargestWeightedCorner) {
  // At (0.5, 0.5) all four corner weights are 0.25: max(0.25, 0.5, 0.75, 1.0).
  auto r = roi_align(make_tensor<float>({1, 4}, {0.f, 0.f, 1.f, 1.f}), make_tensor<int64_t>({1}, {0}),
                     {{"mode", std::string("max")}}, 10);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {1.f});
}

TEST(RoiAlign, RejectsBadInputs) {
  expect_invalid_argument(
      roi_align(make_tensor<float>({1, 4}, {0.f, 0.f, 1.f, 1.f}), make_tensor<int64_t>({1}, {1}), {}, 16),
      "'batch_indices'[0] = 1 is out of range");
  expect_invalid_argument(
      roi_align(make_tensor<float>({1, 3}, {0.f, 0.f, 1.f}), make_tensor<int64_t>({1}, {0}), {}, 16), "'rois'");
  auto bad_mode = run_op("RoiAlign", {}, {{"mode", std::string("median")}}, 1, 16);
  expect_invalid_argument(bad_mode, "attribute 'mode'");
}

OpRun grid_sample(float x, float y, Attributes a) {
  return run_op("GridSample", {image(), make_tensor<float>({1, 1, 1, 2}, {x, y})}, a, 1, 16);
}

TEST(GridSample, BilinearAtTheCenter) {
  auto r = grid_sample(0.f, 0.f, {});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {2.5f});
}

TEST(GridSample, AlignCornersMapsMinusOneToTheFirstPixel) {
  auto r = grid_sample(-1.f, -1.f, {{"align_corners", int64_t{1}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {1.f});
}

TEST(GridSample, PaddingModesAtTheCorner) {
  // (-1, -1) without align_corners is pixel (-0.5, -0.5): a quarter of pixel (0, 0) plus padding.
  auto zeros = grid_sample(-1.f, -1.f, {});
  ASSERT_TRUE(zeros.status.is_ok()) << zeros.status.to_string();
  expect_near(zeros.outputs[0], {1, 1, 1, 1}, {0.25f});
  auto border = grid_sample(-1.f, -1.f, {{"padding_mode", std::string("border")}});
  ASSERT_TRUE(border.status.is_ok()) << border.status.to_string();
  expect_near(border.outputs[0], {1, 1, 1, 1}, {1.f});
  // x = 2 is pixel 2.5, reflected off the edge at 1.5 to 0.5: the mean of row 0.
  auto reflection = grid_sample(2.f, -1.f, {{"padding_mode", std::string("reflection")}});
  ASSERT_TRUE(reflection.status.is_ok()) << reflection.status.to_string();
  expect_near(reflection.outputs[0], {1, 1, 1, 1}, {1.5f});
}

TEST(GridSample, NearestRoundsHalfToEven) {
  // Pixel (y, x) = (0.5, 1.0): y rounds to 0.
  auto r = grid_sample(0.5f, 0.f, {{"mode", std::string("nearest")}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {2.f});
}

TEST(GridSample, BicubicWithZeroPadding) {
  // At t = 0.5 the inner weights are 0.59375 and the outer taps read zeros: 0.59375^2 * 10.
  auto r = grid_sample(0.f, 0.f, {{"mode", std::string("bicubic")}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 1, 1, 1}, {3.525390625f});
}

TEST(GridSample, RejectsBadGridAndMode) {
  expect_invalid_argument(run_op("GridSample", {image(), make_tensor<float>({1, 1, 1, 3}, {0.f, 0.f, 0.f})}, {}, 1, 16),
                          "'grid'");
  expect_invalid_argument(grid_sample(0.f, 0.f, {{"mode", std::string("linear")}}), "attribute 'mode'");
}

TEST(Unique, SortedFlattened) {
  auto r = run_op("Unique", {make_tensor<float>({6}, {2.f, 1.f, 1.f, 3.f, 4.f, 3.f})}, {}, 4, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {4}, {1.f, 2.f, 3.f, 4.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[2]), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[3]), (std::vector<int64_t>{2, 1, 2, 1}));
}

TEST(Unique, UnsortedKeepsFirstOccurrenceOrder) {
  auto r = run_op("Unique", {make_tensor<int64_t>({2, 3}, {2, 1, 1, 3, 4, 3})}, {{"sorted", int64_t{0}}}, 4, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(values_of<int64_t>(r.outputs[0]), (std::vector<int64_t>{2, 1, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[3]), (std::vector<int64_t>{1, 2, 2, 1}));
}

TEST(Unique, ColumnsAlongTheLastAxis) {
  // Columns [1, 1, 2], [0, 0, 3], [0, 0, 3]: two unique, sorted lexicographically.
  auto x = make_tensor<float>({3, 3}, {1.f, 0.f, 0.f, 1.f, 0.f, 0.f, 2.f, 3.f, 3.f});
  auto r = run_op("Unique", {x}, {{"axis", int64_t{-1}}}, 4, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3, 2}, {0.f, 1.f, 0.f, 1.f, 3.f, 2.f});
  EXPECT_EQ(values_of<int64_t>(r.outputs[1]), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[2]), (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(values_of<int64_t>(r.outputs[3]), (std::vector<int64_t>{2, 1}));
}

TEST(Unique, RejectsBadAxis) {
  expect_invalid_argument(
      run_op("Unique", {make_tensor<float>({2, 2}, {1.f, 2.f, 3.f, 4.f})}, {{"axis", int64_t{2}}}, 1, 11),
      "axis 2 is out of range");
  expect_invalid_argument(run_op("Unique", {make_tensor<float>({}, {1.f})}, {{"axis", int64_t{0}}}, 1, 11),
                          "got a scalar");
}

TEST(Det, BatchedWithPivoting) {
  // [[1, 2], [3, 4]] -> -2; [[0, 1], [1, 0]] needs a row swap -> -1; a scaled identity -> 8.
  auto x = make_tensor<float>({3, 2, 2}, {1.f, 2.f, 3.f, 4.f, 0.f, 1.f, 1.f, 0.f, 2.f, 0.f, 0.f, 4.f});
  auto r = run_op("Det", {x}, {}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3}, {-2.f, -1.f, 8.f});
}

TEST(Det, ThreeByThreeAndSingular) {
  auto x = make_tensor<double>({3, 3}, {2., -1., 0., -1., 2., -1., 0., -1., 2.});
  auto r = run_op("Det", {x}, {}, 1, 11);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.outputs[0].shape(), Shape{});
  EXPECT_NEAR(values_of<double>(r.outputs[0])[0], 4.0, 1e-12);
  auto singular = run_op("Det", {make_tensor<float>({2, 2}, {1.f, 2.f, 2.f, 4.f})}, {}, 1, 11);
  ASSERT_TRUE(singular.status.is_ok()) << singular.status.to_string();
  expect_near(singular.outputs[0], {}, {0.f});
}

TEST(Det, RejectsNonSquare) {
  expect_invalid_argument(run_op("Det", {make_tensor<float>({2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f})}, {}, 1, 11),
                          "square");
}

}  // namespace
}  // namespace fulcrum::testing
