// Calibration cache (TensorRT's text format) and its side record.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "quant/calib_cache.h"
#include "quant/calib_record.h"
#include "quant/calibrator.h"

namespace fulcrum::quant {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(__FILE__).parent_path().parent_path() / "quant" / "data";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const std::string& name) { return (fs::temp_directory_path() / name).string(); }

TEST(QuantCalibCache, ReadsACacheWrittenByTensorRTAndWritesItBackByteForByte) {
  const fs::path path = kFixtures / "trt8510_mnist.cache";
  auto cache = CalibrationCache::load(path.string());
  ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
  EXPECT_EQ(cache->trt_version(), "8510");
  EXPECT_EQ(cache->algorithm(), "EntropyCalibration2");
  ASSERT_EQ(cache->entries().size(), 22u);
  EXPECT_EQ(std::bit_cast<uint32_t>(*cache->scale("x")), 0x4000890au);
  EXPECT_NEAR(*cache->amax("x"), 255.06f, 0.01f);  // raw pixels: amax just above 255
  EXPECT_EQ(std::bit_cast<uint32_t>(*cache->scale("(Unnamed Layer* 9) [Matrix Multiply]_output")), 0x3e74c2e0u);
  EXPECT_EQ(cache->entries().back().tensor, "(Unnamed Layer* 28) [TopK]_output_1");
  EXPECT_EQ(cache->serialize(), read_bytes(path));

  const std::string copy = temp_path("fulcrum_trt_roundtrip.cache");
  ASSERT_TRUE(cache->save(copy).is_ok());
  EXPECT_EQ(read_bytes(copy), read_bytes(path));
}

TEST(QuantCalibCache, FromCalibratorRoundTrips) {
  auto calibrator = make_calibrator("minmax");
  ASSERT_TRUE((*calibrator)
                  ->observe("input", Tensor::from_vector(DType::kFloat32, {3}, std::vector<float>{1, -2, 0.5f}))
                  .is_ok());
  ASSERT_TRUE((*calibrator)->observe("zeros", Tensor::zeros(DType::kFloat32, {4})).is_ok());
  auto cache = CalibrationCache::from_calibrator(**calibrator);
  ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
  // 2 / 127 = 0.015748031 = 0x3c810204; an all-zero tensor gets TensorRT's 1/127 = 0x3c010204.
  EXPECT_EQ(cache->serialize(), "TRT-8601-MinMaxCalibration\ninput: 3c810204\nzeros: 3c010204\n");
  auto back = CalibrationCache::parse(cache->serialize(), "mem.cache");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->serialize(), cache->serialize());
  EXPECT_FLOAT_EQ(*back->amax("input"), 2.0f);
}

TEST(QuantCalibCache, AcceptsEveryTensorRTAlgorithmAndVersion) {
  for (const char* header : {"TRT-8601-EntropyCalibration2", "TRT-7103-EntropyCalibration",
                             "TRT-100300-MinMaxCalibration", "TRT-5105-LegacyCalibration"}) {
    auto cache = CalibrationCache::parse(std::string(header) + "\ndata: 3c010204\n", "c");
    ASSERT_TRUE(cache.is_ok()) << header << ": " << cache.status().to_string();
    EXPECT_EQ(cache->serialize(), std::string(header) + "\ndata: 3c010204\n");
  }
  // Windows line ends and a missing final newline are read; the cache is written TensorRT's way.
  auto crlf = CalibrationCache::parse("TRT-8601-EntropyCalibration2\r\ndata: 3C010204", "c");
  ASSERT_TRUE(crlf.is_ok()) << crlf.status().to_string();
  EXPECT_EQ(crlf->serialize(), "TRT-8601-EntropyCalibration2\ndata: 3c010204\n");
}

TEST(QuantCalibCache, BadInputNamesFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;  // in the message
  };
  const Case cases[] = {
      {"", "bad.cache: empty"},
      {"TRT-8601-KLCalibration\n", "bad.cache:1: not a TensorRT calibration cache header"},
      {"TRT-x-EntropyCalibration2\n", "bad.cache:1:"},
      {"input: 3c010204\n", "bad.cache:1:"},
      {"TRT-8601-EntropyCalibration2\ninput 3c010204\n", "bad.cache:2: malformed line"},
      {"TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c01020g\n", "bad.cache:3: tensor 'b': scale '3c01020g'"},
      {"TRT-8601-EntropyCalibration2\nb: 3c0102041\n", "bad.cache:2: tensor 'b'"},
      {"TRT-8601-EntropyCalibration2\nnan: 7fc00000\n", "bad.cache:2: tensor 'nan': scale nan"},
      {"TRT-8601-EntropyCalibration2\nneg: bf800000\n", "bad.cache:2: tensor 'neg': scale -1"},
      {"TRT-8601-EntropyCalibration2\nzero: 00000000\n", "bad.cache:2: tensor 'zero': scale 0"},
      {"TRT-8601-EntropyCalibration2\ninf: 7f800000\n", "bad.cache:2: tensor 'inf'"},
      {"TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c010204\na: 3c010204\n",
       "bad.cache:4: tensor 'a' appears twice"},
  };
  for (const Case& c : cases) {
    auto cache = CalibrationCache::parse(c.text, "bad.cache");
    ASSERT_FALSE(cache.is_ok()) << c.text;
    EXPECT_EQ(cache.status().code(), StatusCode::kParseError);
    EXPECT_NE(cache.status().message().find(c.expected), std::string::npos)
        << "got: " << cache.status().message() << "\nexpected: " << c.expected;
  }
  EXPECT_EQ(CalibrationCache::load(temp_path("fulcrum_no_such.cache")).status().code(), StatusCode::kIoError);
  CalibrationCache cache;
  EXPECT_FALSE(cache.set_scale("t", 0.0f).is_ok());
  EXPECT_FALSE(cache.set_scale("two\nlines", 1.0f).is_ok());
}

TEST(QuantCalibRecord, RoundTripsAndReportsWhatChanged) {
  CalibrationRecord record{fingerprint_bytes("model bytes"), "entropy", "imagenet 224x224 rgb nchw", "calib/ (500)",
                           fingerprint_bytes("TRT-8601-EntropyCalibration2\n")};
  const std::string cache_path = temp_path("fulcrum_record.calib");
  ASSERT_TRUE(save_record(record_path(cache_path), record).is_ok());
  auto back = load_record(record_path(cache_path));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(stale_reasons(*back, record).empty());
  EXPECT_TRUE(warn_if_stale(cache_path, record).empty());

  CalibrationRecord now = record;
  now.model = fingerprint_bytes("model bytes v2");
  now.calibrator = "percentile=99.99";
  now.data = "elsewhere/";  // informational only
  auto reasons = warn_if_stale(cache_path, now);
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find("another model"), std::string::npos);
  EXPECT_NE(reasons[1].find("'entropy', not 'percentile=99.99'"), std::string::npos);

  EXPECT_EQ(warn_if_stale(temp_path("fulcrum_no_record.calib"), record).size(), 1u);
  std::ofstream(record_path(cache_path)) << "{\"format\": \"something else\"}";
  EXPECT_EQ(load_record(record_path(cache_path)).status().code(), StatusCode::kParseError);
}

TEST(QuantCalibRecord, FingerprintIsStableAndSensitive) {
  EXPECT_EQ(fingerprint_bytes(""), "fnv1a64:cbf29ce484222325");   // FNV-1a's offset basis
  EXPECT_EQ(fingerprint_bytes("a"), "fnv1a64:af63dc4c8601ec8c");  // the published test vector
  const std::string path = temp_path("fulcrum_fingerprint.bin");
  std::ofstream(path, std::ios::binary) << "a";
  EXPECT_EQ(*fingerprint_file(path), fingerprint_bytes("a"));
}

}  // namespace
}  // namespace fulcrum::quant
