// INT8 suitability warnings (src/quant/suitability.h) on synthetic activations with known
// answers, the roles read from a layer list, and the warnings' place in the calibration record.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "quant/calib_record.h"
#include "quant/calibrator.h"
#include "quant/suitability.h"

namespace fulcrum::quant {
namespace {

namespace fs = std::filesystem;

std::vector<float> gaussian(size_t n, uint32_t seed, float mean = 0.0f, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void observe(Calibrator& calibrator, const std::string& tensor, const std::vector<float>& values) {
  const Tensor t = Tensor::from_vector(DType::kFloat32, {static_cast<int64_t>(values.size())}, values);
  ASSERT_TRUE(calibrator.observe(tensor, t).is_ok());
}

std::vector<SuitabilityWarning> check(const std::string& spec, const std::string& tensor,
                                      const std::vector<float>& values, const ModelRoles& roles) {
  auto calibrator = make_calibrator(spec);
  EXPECT_TRUE(calibrator.is_ok());
  observe(**calibrator, tensor, values);
  return check_suitability(**calibrator, roles);
}

ModelRoles quantized_input(const std::string& tensor) {
  ModelRoles roles;
  roles.quantized_inputs = {tensor};
  return roles;
}

// `tensor` as the input of an INT8 Conv/MatMul.
std::vector<SuitabilityWarning> check(const std::string& spec, const std::string& tensor,
                                      const std::vector<float>& values) {
  return check(spec, tensor, values, quantized_input(tensor));
}

TEST(QuantSuitability, FewLargeOutliersAreNamed) {
  std::vector<float> x = gaussian(200000, 1);
  for (size_t i : {17u, 50000u, 123456u}) x[i] = (i % 2 ? -1000.0f : 1000.0f) * 4.0f;  // 1000x sigma
  const auto warnings = check("entropy", "conv1_out", x);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].tensor, "conv1_out");
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kOutliers);
  EXPECT_NE(warnings[0].message.find("'conv1_out'"), std::string::npos) << warnings[0].message;
  EXPECT_NE(warnings[0].message.find("max |x| 4000"), std::string::npos) << warnings[0].message;
  // 99.99% of the values fill 3 of the 2048 bins (width 2): EntropyCalibration2 cannot resolve
  // them and keeps the outliers, which the warning says; the percentile calibrator clips them.
  EXPECT_NE(warnings[0].message.find("keeps them"), std::string::npos) << warnings[0].message;
  const auto clipped = check("percentile", "conv1_out", x);
  ASSERT_EQ(clipped.size(), 1u);
  EXPECT_NE(clipped[0].message.find("the calibrated amax 6 clips the outliers"), std::string::npos)
      << clipped[0].message;
}

TEST(QuantSuitability, OrdinaryActivationsDrawNothing) {
  EXPECT_TRUE(check("entropy", "gauss", gaussian(200000, 2)).empty());
  std::vector<float> relu = gaussian(200000, 3);
  for (float& v : relu) v = std::max(v, 0.0f);  // half exact zeros: still no outliers
  EXPECT_TRUE(check("percentile", "relu", relu).empty());
  // A heavy but honest tail (Laplace: max/p99.99 ~ 1.3) is not an outlier either.
  std::mt19937 rng(4);
  std::exponential_distribution<float> expo(1.0f);
  std::vector<float> laplace(200000);
  for (size_t i = 0; i < laplace.size(); ++i) laplace[i] = (i % 2 ? 1.0f : -1.0f) * expo(rng);
  EXPECT_TRUE(check("mse", "laplace", laplace).empty());
}

TEST(QuantSuitability, SaturatedSigmoidAndTanhInputs) {
  ModelRoles roles;
  roles.sigmoid_inputs = {"gate"};
  roles.tanh_inputs = {"cell"};
  // N(0, 8): P(|x| > 4) = 61.7%, P(|x| > 2) = 80.3%.
  const std::vector<float> wide = gaussian(100000, 5, 0.0f, 8.0f);
  auto warnings = check("entropy", "gate", wide, roles);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kSaturation);
  EXPECT_NE(warnings[0].message.find("Sigmoid input saturated: 62% of the values have |x| > 4"), std::string::npos)
      << warnings[0].message;
  warnings = check("entropy", "cell", wide, roles);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].message.find("Tanh input saturated: 80%"), std::string::npos) << warnings[0].message;
  // N(0, 1.5) sits in the sensitive region of both.
  EXPECT_TRUE(check("entropy", "gate", gaussian(100000, 6, 0.0f, 1.5f), roles).empty());
  // The same wide data with no consumer that cares draws nothing.
  EXPECT_TRUE(check("entropy", "other", wide, roles).empty());
}

TEST(QuantSuitability, SoftmaxInputWithLargeLogits) {
  ModelRoles roles;
  roles.softmax_inputs = {"scores"};
  // Logits up to ~40: amax/127 ~ 0.3 of a logit.
  auto warnings = check("entropy", "scores", gaussian(50000, 7, 0.0f, 10.0f), roles);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kSoftmaxRange);
  EXPECT_NE(warnings[0].message.find("'scores': Softmax input"), std::string::npos) << warnings[0].message;
  // Logits within +-8: step 0.063, fine. MinMax needs no histogram for this check.
  EXPECT_TRUE(check("entropy", "scores", gaussian(50000, 8, 0.0f, 2.0f), roles).empty());
  warnings = check("minmax", "scores", {-20.0f, 5.0f, 1.0f}, roles);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kSoftmaxRange);
  EXPECT_NE(warnings[0].message.find("step of 0.157"), std::string::npos) << warnings[0].message;
  EXPECT_EQ(warnings[1].kind, SuitabilityKind::kNoHistogram);
  EXPECT_EQ(warnings[1].tensor, "");
}

TEST(QuantSuitability, SoftmaxOutputWhoseMassRoundsToZero) {
  ModelRoles roles;
  roles.softmax_outputs = {"probs"};
  // Rows of 512 near-uniform probabilities (~0.002) next to a few confident rows (max 0.9):
  // half a step of amax 0.9 is 0.0035, so the uniform rows vanish.
  std::vector<float> probs(512 * 64, 1.0f / 512);
  for (int row = 0; row < 4; ++row) probs[static_cast<size_t>(row) * 512] = 0.9f;
  auto warnings = check("percentile=100", "probs", probs, roles);  // amax = max = 0.9
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kSoftmaxMass);
  EXPECT_NE(warnings[0].message.find("'probs': Softmax output: 95% of the probability mass"), std::string::npos)
      << warnings[0].message;
  // 64 rows over 10 classes, peaked: nothing lost.
  std::vector<float> peaked(10 * 64, 0.01f);
  for (int row = 0; row < 64; ++row) peaked[static_cast<size_t>(row) * 10] = 0.91f;
  EXPECT_TRUE(check("entropy", "probs", peaked, roles).empty());
}

TEST(QuantSuitability, AmaxThatClipsTheBulkOfTheValues) {
  const std::vector<float> x = gaussian(100000, 10);
  auto warnings = check("percentile=80", "t", x);  // clips 20%
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kClipping);
  EXPECT_NE(warnings[0].message.find("clips 20% of the values"), std::string::npos) << warnings[0].message;
  EXPECT_TRUE(check("percentile=95", "t", x).empty());  // 5%: an aggressive but ordinary clip
}

TEST(QuantSuitability, TensorAlwaysZeroHasOnlyAPlaceholderScale) {
  const auto warnings = check("entropy", "mask_bias", std::vector<float>(4096, 0.0f));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, SuitabilityKind::kAllZero);
  EXPECT_NE(warnings[0].message.find("'mask_bias': 0 in all 4096 calibration values"), std::string::npos)
      << warnings[0].message;
  EXPECT_TRUE(check("percentile=100", "almost", {0.0f, 0.0f, 1e-3f}).empty());
}

TEST(QuantSuitability, MinMaxPairedWithAHistogramCalibrator) {
  std::vector<float> x = gaussian(100000, 9);
  x[10] = 5000.0f;
  auto minmax = make_calibrator("minmax");
  auto histograms = make_calibrator("percentile");
  observe(**minmax, "t", x);
  observe(**histograms, "t", x);
  const auto alone = check_suitability(**minmax, quantized_input("t"));
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].kind, SuitabilityKind::kNoHistogram);
  EXPECT_NE(alone[0].message.find("minmax"), std::string::npos);
  const auto paired = check_suitability(**minmax, quantized_input("t"), histograms->get());
  ASSERT_EQ(paired.size(), 1u);
  EXPECT_EQ(paired[0].kind, SuitabilityKind::kOutliers);
  EXPECT_NE(paired[0].message.find("the calibrated amax 5000 keeps them"), std::string::npos) << paired[0].message;
}

TEST(QuantSuitability, HistogramShares) {
  Histogram h(8);
  h.add(std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f});  // range 8, one per bin
  EXPECT_DOUBLE_EQ(share_above(h, 6.0), 0.25);
  EXPECT_DOUBLE_EQ(share_above(h, 6.5), 0.1875);  // half of bin [6, 7)
  EXPECT_DOUBLE_EQ(share_above(h, 100.0), 0.0);
  EXPECT_DOUBLE_EQ(mass_share_below(h, 2.0), 2.0 / 32.0);  // centres 0.5 + 1.5 of 32
  EXPECT_DOUBLE_EQ(mass_share_below(h, 1.0), 0.5 / 32.0);
  EXPECT_DOUBLE_EQ(mass_share_below(h, 0.5), 0.125 / 32.0);  // half the bin at centre 0.25
  EXPECT_DOUBLE_EQ(share_above(Histogram(8), 1.0), 0.0);
}

TEST(QuantSuitability, RolesFromLayers) {
  const std::vector<LayerDesc> layers = {
      {"sm", "Softmax", "", {"logits"}, {"probs"}},
      {"lsm", "LogSoftmax", "", {"logits2"}, {"logprobs"}},
      {"gate", "Sigmoid", "", {"g_in"}, {"g"}},
      {"silu_sig", "Sigmoid", "", {"a"}, {"sa"}},
      {"silu_mul", "Mul", "", {"a", "sa"}, {"silu"}},
      {"th", "Tanh", "", {"t_in"}, {"t"}},
      {"custom", "Softmax", "com.example", {"c_in"}, {"c"}},
      {"w_copy", "Identity", "", {"w"}, {"w2"}},
      {"attn_v", "MatMul", "", {"probs", "v"}, {"ctx"}},
      {"proj", "MatMul", "", {"ctx", "w2"}, {"y"}},
  };
  const ModelRoles roles = model_roles(layers, {"logits", "logits2", "g_in", "a", "t_in", "c_in", "v"});
  EXPECT_EQ(roles.softmax_inputs, (std::set<std::string>{"logits", "logits2"}));
  EXPECT_EQ(roles.softmax_outputs, (std::set<std::string>{"probs"}));
  EXPECT_EQ(roles.sigmoid_inputs, (std::set<std::string>{"g_in"}));  // SiLU's gate is not checked
  EXPECT_EQ(roles.tanh_inputs, (std::set<std::string>{"t_in"}));
  // The projection's activation; not its weight w2, nor attention's activation x activation MatMul.
  EXPECT_EQ(roles.quantized_inputs, (std::set<std::string>{"ctx"}));
  EXPECT_EQ(roles.constants, (std::set<std::string>{"w2"}));

  // Clipping and outliers count only where INT8 computes; a constant is never checked.
  EXPECT_EQ(check("percentile=50", "ctx", gaussian(10000, 11), roles).size(), 1u);
  EXPECT_TRUE(check("percentile=50", "probs", gaussian(10000, 11), roles).empty());
  EXPECT_TRUE(check("percentile=50", "sa", gaussian(10000, 11), roles).empty());
  EXPECT_TRUE(check("entropy", "w2", std::vector<float>(64, 0.0f), roles).empty());
}

std::string temp_path(const std::string& name) { return (fs::temp_directory_path() / name).string(); }

TEST(QuantSuitabilityRecord, WarningsRoundTripAndOldRecordsLoad) {
  CalibrationRecord record;
  record.model = fingerprint_bytes("model");
  record.calibrator = "entropy";
  record.preprocessing = "none";
  record.data = "calib.npy (8 samples)";
  record.cache = fingerprint_bytes("TRT-8601-EntropyCalibration2\n");
  record.warnings = {"tensor 'a': outliers: max |x| 4000 ...", "tensor 'b \"quoted\"': Softmax input ..."};
  const std::string cache_path = temp_path("fulcrum_suitability_record.calib");
  ASSERT_TRUE(save_record(record_path(cache_path), record).is_ok());
  auto back = load_record(record_path(cache_path));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->warnings, record.warnings);
  EXPECT_EQ(recorded_warnings(cache_path), record.warnings);
  EXPECT_EQ(warn_recorded(cache_path), record.warnings);
  // A build given only the cache knows the model, not how the cache was made: no false alarm.
  CalibrationRecord build_knows;
  build_knows.model = record.model;
  EXPECT_TRUE(stale_reasons(*back, build_knows).empty());
  build_knows.calibrator = "minmax";
  EXPECT_EQ(stale_reasons(*back, build_knows).size(), 1u);

  // A record written before warnings existed loads, with none.
  std::ofstream(record_path(cache_path)) << R"({"format": "fulcrum-calibration-record", "version": 1,
    "model": "fnv1a64:0", "calibrator": "entropy", "preprocessing": "none", "data": "d", "cache": "fnv1a64:1"})";
  back = load_record(record_path(cache_path));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(back->warnings.empty());

  // A malformed "warnings" is an error naming the file, not ignored.
  std::ofstream(record_path(cache_path)) << R"({"format": "fulcrum-calibration-record", "version": 1,
    "model": "m", "calibrator": "c", "preprocessing": "p", "data": "d", "cache": "c", "warnings": [1]})";
  back = load_record(record_path(cache_path));
  ASSERT_FALSE(back.is_ok());
  EXPECT_EQ(back.status().code(), StatusCode::kParseError);
  EXPECT_NE(back.status().message().find(record_path(cache_path)), std::string::npos);
  EXPECT_TRUE(recorded_warnings(cache_path).empty());
  EXPECT_TRUE(recorded_warnings(temp_path("fulcrum_suitability_no_record.calib")).empty());
}

}  // namespace
}  // namespace fulcrum::quant
