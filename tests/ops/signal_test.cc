// The window generators, DFT, STFT and MelWeightMatrix against hand-computed results.
#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::Attributes;

OpRun window(const std::string& op, int64_t size, const Attributes& a = {}) {
  return run_op(op, {make_tensor<int64_t>({}, {size})}, a, 1, 17);
}

TEST(Windows, HannPeriodicAndSymmetric) {
  auto periodic = window("HannWindow", 4);
  ASSERT_TRUE(periodic.status.is_ok()) << periodic.status.to_string();
  expect_near(periodic.outputs[0], {4}, {0.f, 0.5f, 1.f, 0.5f});
  auto symmetric = window("HannWindow", 5, {{"periodic", int64_t{0}}});
  ASSERT_TRUE(symmetric.status.is_ok()) << symmetric.status.to_string();
  expect_near(symmetric.outputs[0], {5}, {0.f, 0.5f, 1.f, 0.5f, 0.f});
}

TEST(Windows, HammingSymmetric) {
  // alpha = 25/46: the ends are 2 * 25/46 - 1 = 4/46.
  auto r = window("HammingWindow", 3, {{"periodic", int64_t{0}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {3}, {4.f / 46.f, 1.f, 4.f / 46.f});
}

TEST(Windows, BlackmanPeriodic) {
  auto r = window("BlackmanWindow", 4);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {4}, {0.f, 0.34f, 1.f, 0.34f});
}

TEST(Windows, OutputDatatypeDouble) {
  auto r = window("HannWindow", 2, {{"output_datatype", int64_t{11}}});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[0].dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(r.outputs[0]), (std::vector<double>{0.0, 1.0}));
}

TEST(Windows, RejectsBadSize) {
  expect_invalid_argument(window("HannWindow", -1), "'size' must not be negative");
  expect_invalid_argument(run_op("HannWindow", {make_tensor<float>({}, {4.f})}, {}, 1, 17),
                          "'size' must be int32 or int64");
  expect_invalid_argument(window("HannWindow", 4, {{"output_datatype", int64_t{8}}}), "'output_datatype'");
}

// [1, 2, 3, 4] as a real signal [1, 4, 1]; its DFT is [10, -2+2i, -2, -2-2i].
Tensor ramp() { return make_tensor<float>({1, 4, 1}, {1.f, 2.f, 3.f, 4.f}); }

TEST(DFT, RealForwardAndOnesided) {
  auto full = run_op("DFT", {ramp()}, {}, 1, 17);
  ASSERT_TRUE(full.status.is_ok()) << full.status.to_string();
  expect_near(full.outputs[0], {1, 4, 2}, {10.f, 0.f, -2.f, 2.f, -2.f, 0.f, -2.f, -2.f});
  auto half = run_op("DFT", {ramp()}, {{"onesided", int64_t{1}}}, 1, 17);
  ASSERT_TRUE(half.status.is_ok()) << half.status.to_string();
  expect_near(half.outputs[0], {1, 3, 2}, {10.f, 0.f, -2.f, 2.f, -2.f, 0.f});
}

TEST(DFT, InverseAndIrfftRecoverTheSignal) {
  auto spectrum = make_tensor<float>({1, 4, 2}, {10.f, 0.f, -2.f, 2.f, -2.f, 0.f, -2.f, -2.f});
  auto inverse = run_op("DFT", {spectrum}, {{"inverse", int64_t{1}}}, 1, 17);
  ASSERT_TRUE(inverse.status.is_ok()) << inverse.status.to_string();
  expect_near(inverse.outputs[0], {1, 4, 2}, {1.f, 0.f, 2.f, 0.f, 3.f, 0.f, 4.f, 0.f});
  // IRFFT: a one-sided spectrum of 3 bins is a real signal of 2 * (3 - 1) = 4 samples.
  auto half = make_tensor<float>({1, 3, 2}, {10.f, 0.f, -2.f, 2.f, -2.f, 0.f});
  auto irfft = run_op("DFT", {half}, {{"inverse", int64_t{1}}, {"onesided", int64_t{1}}}, 1, 17);
  ASSERT_TRUE(irfft.status.is_ok()) << irfft.status.to_string();
  expect_near(irfft.outputs[0], {1, 4, 1}, {1.f, 2.f, 3.f, 4.f});
}

TEST(DFT, DftLengthTruncatesAndAxisInputFromOpset20) {
  auto r = run_op("DFT", {ramp(), make_tensor<int64_t>({}, {2})}, {}, 1, 17);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 2}, {3.f, 0.f, -1.f, 0.f});
  // DFT-20: the axis is input 2; over axis 0 (size 1) the transform is the identity.
  auto axis0 = run_op("DFT", {ramp(), Tensor(), make_tensor<int64_t>({}, {0})}, {}, 1, 20);
  ASSERT_TRUE(axis0.status.is_ok()) << axis0.status.to_string();
  expect_near(axis0.outputs[0], {1, 4, 2}, {1.f, 0.f, 2.f, 0.f, 3.f, 0.f, 4.f, 0.f});
}

TEST(DFT, RejectsBadAxisAndShape) {
  expect_invalid_argument(run_op("DFT", {ramp()}, {{"axis", int64_t{2}}}, 1, 17), "axis 2 is out of range");
  expect_invalid_argument(run_op("DFT", {make_tensor<float>({1, 1, 3}, {1.f, 2.f, 3.f})}, {}, 1, 17),
                          "dimension of 1 (real) or 2");
  expect_invalid_argument(run_op("DFT", {ramp(), make_tensor<int64_t>({}, {0})}, {}, 1, 17),
                          "DFT length must be positive");
}

TEST(STFT, FramesWithAndWithoutWindow) {
  // Frames [1, 2] and [3, 4]; onesided 2-point DFTs are [sum, difference].
  auto r = run_op("STFT", {ramp(), make_tensor<int64_t>({}, {2}), Tensor(), make_tensor<int64_t>({}, {2})}, {}, 1, 17);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {1, 2, 2, 2}, {3.f, 0.f, -1.f, 0.f, 7.f, 0.f, -1.f, 0.f});
  auto windowed =
      run_op("STFT", {ramp(), make_tensor<int64_t>({}, {2}), make_tensor<float>({2}, {1.f, 0.5f})}, {}, 1, 17);
  ASSERT_TRUE(windowed.status.is_ok()) << windowed.status.to_string();
  expect_near(windowed.outputs[0], {1, 2, 2, 2}, {2.f, 0.f, 0.f, 0.f, 5.f, 0.f, 1.f, 0.f});
}

TEST(STFT, RejectsMismatchedWindow) {
  auto r = run_op(
      "STFT",
      {ramp(), make_tensor<int64_t>({}, {2}), make_tensor<float>({2}, {1.f, 1.f}), make_tensor<int64_t>({}, {3})}, {},
      1, 17);
  expect_invalid_argument(r, "must equal the length of 'window'");
  expect_invalid_argument(run_op("STFT", {ramp(), make_tensor<int64_t>({}, {0})}, {}, 1, 17),
                          "'frame_step' must be positive");
}

OpRun mel(int64_t bins, int64_t dft_length, int64_t rate, float lower, float upper) {
  return run_op("MelWeightMatrix",
                {make_tensor<int64_t>({}, {bins}), make_tensor<int64_t>({}, {dft_length}),
                 make_tensor<int64_t>({}, {rate}), make_tensor<float>({}, {lower}), make_tensor<float>({}, {upper})},
                {}, 1, 17);
}

TEST(MelWeightMatrix, TwoBands) {
  // The mel step is mel(8000) / (2 + 2) = 710: corners 0, 710, 1420, 2130 mel are 0, 614, 1768 and
  // 3934 Hz, spectrogram bins floor(17 * hz / 16000) = 0, 0, 1, 4.
  auto r = mel(2, 16, 16000, 0.f, 8000.f);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  std::vector<float> expected(18, 0.f);
  expected[0] = 1.f;        // band 0: left = center = bin 0
  expected[3] = 1.f;        // band 1 rises from bin 0 to its peak at bin 1
  expected[5] = 2.f / 3.f;  // and falls to bin 4
  expected[7] = 1.f / 3.f;
  expect_near(r.outputs[0], {9, 2}, expected);
}

TEST(MelWeightMatrix, RejectsEdgesAboveNyquist) {
  // The top corner, at 3/4 of mel(40000), is 14050 Hz: bin 14 of 9.
  expect_invalid_argument(mel(2, 16, 16000, 0.f, 40000.f), "upper_edge_hertz");
  expect_invalid_argument(mel(0, 16, 16000, 0.f, 8000.f), "'num_mel_bins'");
}

}  // namespace
}  // namespace fulcrum::testing
