// Histograms and calibrators (src/quant): known answers on synthetic distributions, exact
// histogram merging, bad input. The cross-check of EntropyCalibration2 against an independent
// numpy implementation lives in tests/quant/test_entropy_numpy.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "quant/calibrator.h"
#include "quant/histogram.h"

namespace fulcrum::quant {
namespace {

Tensor make_tensor(const std::vector<float>& values) {
  return Tensor::from_vector(DType::kFloat32, {static_cast<int64_t>(values.size())}, values);
}

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// All four calibrators fed the same batches of one tensor.
std::map<std::string, float> calibrate_all(const std::vector<std::vector<float>>& batches) {
  std::map<std::string, float> out;
  for (const char* spec : {"entropy", "minmax", "percentile", "mse"}) {
    auto calibrator = make_calibrator(spec);
    EXPECT_TRUE(calibrator.is_ok());
    for (const auto& b : batches) EXPECT_TRUE((*calibrator)->observe("t", make_tensor(b)).is_ok());
    auto amax = (*calibrator)->amax("t");
    EXPECT_TRUE(amax.is_ok());
    out[spec] = *amax;
  }
  return out;
}

TEST(QuantHistogram, RangeIsThePowerOfTwoAboveTheMax) {
  Histogram h;
  h.add(std::vector<float>{0.0f, -3.0f, 1.5f});
  EXPECT_EQ(h.range(), 4.0);
  EXPECT_EQ(h.max_abs(), 3.0f);
  EXPECT_EQ(h.total(), 3u);
  EXPECT_EQ(h.counts()[0], 1u);     // 0
  EXPECT_EQ(h.counts()[768], 1u);   // 1.5 / (4 / 2048)
  EXPECT_EQ(h.counts()[1536], 1u);  // 3.0
  h.add(std::vector<float>{4.0f});  // exactly the range: it doubles, 4 lands in bin 1024
  EXPECT_EQ(h.range(), 8.0);
  EXPECT_EQ(h.counts()[1024], 1u);
  EXPECT_EQ(h.counts()[384], 1u);
  EXPECT_EQ(h.counts()[768], 1u);
}

TEST(QuantHistogram, ZerosBeforeTheFirstNonZeroStayInBinZero) {
  Histogram h;
  h.add(std::vector<float>(10, 0.0f));
  EXPECT_EQ(h.range(), 0.0);
  EXPECT_EQ(h.used_bins(), 1);
  h.add(std::vector<float>{0.25f});
  EXPECT_EQ(h.range(), 0.5);
  EXPECT_EQ(h.counts()[0], 10u);
  EXPECT_EQ(h.counts()[1024], 1u);
}

TEST(QuantHistogram, GrowingOverBatchesEqualsOneShot) {
  // Batches of growing (and shrinking) spread, so the range doubles several times, by more
  // than one step at once too.
  std::vector<std::vector<float>> batches = {gaussian(5000, 1, 0.01f), gaussian(5000, 2, 0.5f), gaussian(5000, 3, 0.1f),
                                             gaussian(5000, 4, 30.0f), gaussian(5000, 5, 2.0f)};
  Histogram streamed, one_shot, merged, part;
  std::vector<float> all;
  for (size_t i = 0; i < batches.size(); ++i) {
    streamed.add(batches[i]);
    all.insert(all.end(), batches[i].begin(), batches[i].end());
    if (i == 2) {
      merged = part;
      part = Histogram();
    }
    part.add(batches[i]);
  }
  merged.merge(part);
  one_shot.add(all);
  EXPECT_EQ(streamed.range(), one_shot.range());
  EXPECT_EQ(streamed.counts(), one_shot.counts());
  EXPECT_EQ(streamed.max_abs(), one_shot.max_abs());
  EXPECT_EQ(merged.range(), one_shot.range());
  EXPECT_EQ(merged.counts(), one_shot.counts());
  EXPECT_EQ(merged.total(), one_shot.total());
}

TEST(QuantCalibrator, EntropyOfAUniformHistogramKeepsTheWholeRange) {
  // Uniform counts over the used bins: the 128-level Q reproduces P exactly at the last
  // threshold (KL 0), which wins ties, so nothing is clipped.
  Histogram h;
  std::vector<float> values;
  for (int i = 0; i < 1500; ++i)
    for (int k = 0; k < 4; ++k) values.push_back((static_cast<float>(i) + 0.5f) / 1024.0f);  // bins 0..1499
  h.add(values);
  ASSERT_EQ(h.range(), 2.0);
  EXPECT_EQ(h.used_bins(), 1500);
  EXPECT_FLOAT_EQ(entropy2_amax(h), 1500.0f / 1024.0f);
}

TEST(QuantCalibrator, UniformDataIsNotClipped) {
  auto amax = calibrate_all({uniform(100000, 7, -1.0f, 1.0f), uniform(100000, 8, -1.0f, 1.0f)});
  EXPECT_NEAR(amax["minmax"], 1.0f, 1e-4f);
  EXPECT_NEAR(amax["entropy"], 1.0f, 0.02f);
  EXPECT_NEAR(amax["percentile"], 0.9999f, 0.002f);
  EXPECT_NEAR(amax["mse"], 1.0f, 0.02f);
}

TEST(QuantCalibrator, GaussianKnownAnswers) {
  auto amax = calibrate_all({gaussian(500000, 11), gaussian(500000, 12)});
  // max of 1e6 standard normals is about 4.9; the 99.99th percentile of |x| is 3.891.
  EXPECT_GT(amax["minmax"], 4.3f);
  EXPECT_LT(amax["minmax"], 5.6f);
  EXPECT_NEAR(amax["percentile"], 3.891f, 0.06f);
  // Both clip: entropy and MSE trade the rare tail for resolution.
  EXPECT_GT(amax["entropy"], 2.0f);
  EXPECT_LT(amax["entropy"], amax["minmax"]);
  EXPECT_GT(amax["mse"], 2.5f);
  EXPECT_LT(amax["mse"], amax["minmax"]);
}

TEST(QuantCalibrator, HeavyTailIsClippedExceptByMinMax) {
  // Student's t with 3 degrees of freedom: a continuous tail of outliers.
  std::mt19937 rng(21);
  std::student_t_distribution<float> dist(3.0f);
  std::vector<float> data(200000);
  for (float& x : data) x = dist(rng);
  auto amax = calibrate_all({data});
  float max_abs = 0.0f;
  for (float x : data) max_abs = std::max(max_abs, std::fabs(x));
  EXPECT_EQ(amax["minmax"], max_abs);
  EXPECT_LT(amax["percentile"], 0.5f * max_abs);
  EXPECT_LT(amax["entropy"], 0.5f * max_abs);
  EXPECT_LT(amax["mse"], max_abs);
}

TEST(QuantCalibrator, IsolatedOutliersAreClippedByPercentileOnly) {
  std::vector<float> data = gaussian(200000, 21);
  for (int i = 0; i < 5; ++i) data[static_cast<size_t>(i) * 1000] = i % 2 ? 100.0f : -100.0f;
  auto amax = calibrate_all({data});
  EXPECT_EQ(amax["minmax"], 100.0f);
  EXPECT_LT(amax["percentile"], 5.0f);
  // EntropyCalibration2 keeps them, as TensorRT's published algorithm does: a threshold in the
  // empty gap folds the outliers into an empty last bin, which Q leaves empty, so KL(P||Q) is
  // infinite for every threshold but the one past the outliers (bin 1601 of width 1/16, whose
  // upper edge 100.0625 lies past the largest value: no amax exceeds max |x|).
  EXPECT_EQ(amax["entropy"], 100.0f);
}

TEST(QuantCalibrator, ReluSpikeAtZeroDoesNotDominateEntropy) {
  std::vector<float> data = gaussian(200000, 31);
  for (float& x : data) x = std::max(x, 0.0f);  // half the values are exactly 0
  auto amax = calibrate_all({data});
  EXPECT_GT(amax["entropy"], 2.0f);
  EXPECT_LE(amax["entropy"], amax["minmax"]);
}

TEST(QuantCalibrator, PercentileIsSettable) {
  std::vector<float> data;
  for (int i = 1; i <= 10000; ++i) data.push_back(static_cast<float>(i) / 10000.0f);
  for (auto [spec, expected] : {std::pair{"percentile=50", 0.5f}, {"percentile=90", 0.9f}, {"percentile=100", 1.0f}}) {
    auto c = make_calibrator(spec);
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE((*c)->observe("t", make_tensor(data)).is_ok());
    EXPECT_NEAR(*(*c)->amax("t"), expected, 1.0f / 1024) << spec;
    EXPECT_EQ((*c)->spec(), spec);
  }
}

TEST(QuantCalibrator, AllZeroTensorHasZeroAmax) {
  for (const char* spec : {"entropy", "minmax", "percentile", "mse"}) {
    auto c = make_calibrator(spec);
    ASSERT_TRUE((*c)->observe("zeros", make_tensor(std::vector<float>(100, 0.0f))).is_ok());
    EXPECT_EQ(*(*c)->amax("zeros"), 0.0f) << spec;
  }
}

TEST(QuantCalibrator, NonFiniteValuesAreErrorsNamingTheTensor) {
  auto c = make_calibrator("entropy");
  ASSERT_TRUE((*c)->observe("conv1_out", make_tensor({1.0f, 2.0f})).is_ok());
  Status nan = (*c)->observe("conv1_out", make_tensor({1.0f, std::numeric_limits<float>::quiet_NaN()}));
  EXPECT_EQ(nan.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan.message().find("'conv1_out'"), std::string::npos) << nan.message();
  EXPECT_NE(nan.message().find("NaN at element 1"), std::string::npos) << nan.message();
  Status inf = (*c)->observe("relu2", make_tensor({-std::numeric_limits<float>::infinity()}));
  EXPECT_NE(inf.message().find("'relu2'"), std::string::npos) << inf.message();
  EXPECT_NE(inf.message().find("infinity"), std::string::npos) << inf.message();
  // The failed batch left the statistics alone, and the failed tensor was not registered.
  EXPECT_EQ((*c)->stats("conv1_out")->count, 2u);
  EXPECT_EQ((*c)->tensor_names(), std::vector<std::string>{"conv1_out"});
  Status dtype = (*c)->observe("ids", Tensor::zeros(DType::kInt64, {3}));
  EXPECT_NE(dtype.message().find("'ids'"), std::string::npos) << dtype.message();
  EXPECT_EQ((*c)->amax("never").status().code(), StatusCode::kNotFound);
}

TEST(QuantCalibrator, FactoryParsesSpecs) {
  EXPECT_EQ((*make_calibrator("entropy"))->algorithm(), "EntropyCalibration2");
  EXPECT_EQ((*make_calibrator("minmax"))->algorithm(), "MinMaxCalibration");
  EXPECT_EQ((*make_calibrator("percentile"))->spec(), "percentile=99.99");
  EXPECT_EQ((*make_calibrator("mse"))->spec(), "mse");
  for (const char* bad : {"kl", "percentile=", "percentile=0", "percentile=101", "percentile=9x", "percentile=nan"}) {
    auto c = make_calibrator(bad);
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find(bad), std::string::npos) << c.status().message();
  }
}

}  // namespace
}  // namespace fulcrum::quant
