// Calibration data sources (src/quant/calib_data): .npy files and folders, .npz archives
// written by numpy (stored and deflated), image folders, and the bad input each must name.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "fulcrum/npy.h"
#include "quant/calib_data.h"

namespace fulcrum::quant {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(__FILE__).parent_path().parent_path() / "quant" / "data";

std::string fixture(const char* name) { return (kFixtures / name).string(); }

// A fresh folder holding copies of the given fixtures.
std::string folder_with(const std::string& name, const std::vector<std::pair<const char*, const char*>>& files) {
  const fs::path dir = fs::temp_directory_path() / ("fulcrum_calib_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (auto [from, to] : files) fs::copy_file(kFixtures / from, dir / to);
  return dir.string();
}

const ModelInput kImage{"image", DType::kFloat32, {-1, 1, 4, 4}};
const ModelInput kExtra{"extra", DType::kFloat32, {-1, 3}};

// Reads every batch; returns the row counts and the batches.
std::vector<std::vector<NamedTensor>> drain(CalibrationData& data) {
  std::vector<std::vector<NamedTensor>> batches;
  for (;;) {
    auto batch = data.next();
    EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
    if (!batch.is_ok() || batch->empty()) return batches;
    batches.push_back(std::move(*batch));
  }
}

std::string open_error(const std::string& path, const std::vector<ModelInput>& inputs,
                       CalibrationDataOptions options = {}) {
  auto data = open_calibration_data(path, inputs, options);
  if (!data.is_ok()) return data.status().message();
  auto batch = (*data)->next();
  return batch.is_ok() ? "" : batch.status().message();
}

TEST(QuantCalibData, NpyFileIsCutAlongTheLeadingAxis) {
  CalibrationDataOptions options;
  options.batch_size = 2;
  auto data = open_calibration_data(fixture("images_5x1x4x4.npy"), {kImage}, options);
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  auto batches = drain(**data);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0][0].name, "image");
  EXPECT_EQ(batches[0][0].tensor.shape(), (Shape{2, 1, 4, 4}));
  EXPECT_EQ(batches[2][0].tensor.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_FLOAT_EQ(batches[1][0].tensor.data<float>()[5], (32 + 5) / 80.0f);  // row 2, element 5
  EXPECT_EQ((*data)->preprocessing(), "none");

  options.max_samples = 3;
  auto limited = open_calibration_data(fixture("images_5x1x4x4.npy"), {kImage}, options);
  auto limited_batches = drain(**limited);
  ASSERT_EQ(limited_batches.size(), 2u);
  EXPECT_EQ(limited_batches[1][0].tensor.dim(0), 1);
}

TEST(QuantCalibData, NpyFolderBatchesSpanFiles) {
  const std::string dir = folder_with("npy", {{"images_5x1x4x4.npy", "a.npy"}, {"images_5x1x4x4.npy", "b.npy"}});
  CalibrationDataOptions options;
  options.batch_size = 4;
  auto data = open_calibration_data(dir, {kImage}, options);
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  auto batches = drain(**data);
  ASSERT_EQ(batches.size(), 3u);  // 10 samples: 4, 4, 2
  const float* second = batches[1][0].tensor.data<float>();
  EXPECT_FLOAT_EQ(second[0], 64 / 80.0f);           // a.npy row 4
  EXPECT_FLOAT_EQ(second[16], 0.0f);                // b.npy row 0
  EXPECT_FLOAT_EQ(second[3 * 16 + 1], 33 / 80.0f);  // b.npy row 2
  EXPECT_EQ(batches[2][0].tensor.dim(0), 2);
}

TEST(QuantCalibData, NpzArraysFeedTheInputsNamedAfterThem) {
  for (const char* file : {"two_inputs.npz", "two_inputs_compressed.npz"}) {
    CalibrationDataOptions options;
    options.batch_size = 3;
    auto data = open_calibration_data(fixture(file), {kExtra, kImage}, options);
    ASSERT_TRUE(data.is_ok()) << data.status().to_string();
    auto batches = drain(**data);
    ASSERT_EQ(batches.size(), 2u) << file;
    ASSERT_EQ(batches[1].size(), 2u);
    EXPECT_EQ(batches[1][0].name, "extra");
    EXPECT_EQ(batches[1][0].tensor.shape(), (Shape{2, 3}));
    EXPECT_FLOAT_EQ(batches[1][0].tensor.data<float>()[4], 9 + 4 - 7.0f) << file;  // row 3, column 1
    EXPECT_EQ(batches[1][1].name, "image");
    EXPECT_FLOAT_EQ(batches[1][1].tensor.data<float>()[16 + 15], 79 / 80.0f) << file;  // last element
  }
  // A single array feeds a single-input model whatever its name (np.savez(path, x) says arr_0).
  auto one = open_calibration_data(fixture("one_array.npz"), {{"x", DType::kFloat32, {-1, 1, 4, 4}}}, {});
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(drain(**one)[0][0].tensor.dim(0), 5);
}

TEST(QuantCalibData, BadArraysNameTheFileAndInput) {
  const std::string npz = fixture("two_inputs.npz");
  std::string e = open_error(npz, {kImage, {"mask", DType::kFloat32, {-1, 3}}});
  EXPECT_NE(e.find(npz), std::string::npos) << e;
  EXPECT_NE(e.find("no array named 'mask'"), std::string::npos) << e;
  e = open_error(fixture("images_5x1x4x4.npy"), {{"image", DType::kFloat32, {-1, 3, 4, 4}}});
  EXPECT_NE(e.find("images_5x1x4x4.npy: shape [5, 1, 4, 4] does not fit input 'image'"), std::string::npos) << e;
  e = open_error(fixture("images_5x1x4x4.npy"), {{"image", DType::kInt64, {}}});
  EXPECT_NE(e.find("images_5x1x4x4.npy: dtype float32, but input 'image' takes int64"), std::string::npos) << e;
  e = open_error(npz, {kImage, kExtra, {"third", DType::kFloat32, {}}});
  EXPECT_NE(e.find("'third'"), std::string::npos) << e;
  e = open_error(fixture("images_5x1x4x4.npy"), {kImage, kExtra});
  EXPECT_NE(e.find("has 2 inputs"), std::string::npos) << e;
  e = open_error(fixture("trt8510_mnist.cache"), {kImage});
  EXPECT_NE(e.find("must be a folder, a .npy or a .npz"), std::string::npos) << e;
  e = open_error(fixture("no_such.npy"), {kImage});
  EXPECT_NE(e.find("no_such.npy: no such"), std::string::npos) << e;
  // A file that claims to be an archive but is not one.
  const std::string fake = folder_with("fake", {{"images_5x1x4x4.npy", "fake.npz"}}) + "/fake.npz";
  e = open_error(fake, {kImage});
  EXPECT_NE(e.find("fake.npz: not a .npz"), std::string::npos) << e;
}

TEST(QuantCalibData, NanNamesTheFileAndRow) {
  const std::string dir = folder_with("nan", {{"images_5x1x4x4.npy", "a.npy"}});
  Tensor t = Tensor::zeros(DType::kFloat32, {3, 1, 4, 4});
  t.mutable_data<float>()[2 * 16 + 7] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(save_npy(dir + "/b.npy", t).is_ok());
  CalibrationDataOptions options;
  options.batch_size = 8;
  auto data = open_calibration_data(dir, {kImage}, options);
  ASSERT_TRUE(data.is_ok());
  auto batch = (*data)->next();
  ASSERT_FALSE(batch.is_ok());
  EXPECT_NE(batch.status().message().find("b.npy: NaN in row 2"), std::string::npos) << batch.status().message();
}

TEST(QuantCalibData, FoldersMustHoldOneKindOfData) {
  const std::string empty = folder_with("empty", {});
  EXPECT_NE(open_error(empty, {kImage}).find("empty calibration folder"), std::string::npos);
  const std::string mixed = folder_with("mixed", {{"images_5x1x4x4.npy", "a.npy"}, {"rgb_6x4.png", "b.png"}});
  EXPECT_NE(open_error(mixed, {kImage}).find("both .npy arrays and images"), std::string::npos);
}

TEST(QuantCalibData, UnitImagesAreScaledToZeroOne) {
  const std::string dir = folder_with("rgb", {{"rgb_6x4.png", "a.png"}, {"rgb_6x4.png", "b.PNG"}});
  auto data = open_calibration_data(dir, {{"input", DType::kFloat32, {-1, 3, 4, 6}}}, {});
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  auto batches = drain(**data);
  ASSERT_EQ(batches.size(), 1u);
  const Tensor& t = batches[0][0].tensor;
  ASSERT_EQ(t.shape(), (Shape{2, 3, 4, 6}));
  const float* p = t.data<float>();
  EXPECT_FLOAT_EQ(p[0 * 24 + 2 * 6 + 5], 200 / 255.0f);  // R at (x 5, y 2)
  EXPECT_FLOAT_EQ(p[1 * 24 + 3 * 6 + 1], 180 / 255.0f);  // G at (x 1, y 3)
  EXPECT_FLOAT_EQ(p[2 * 24 + 0 * 6 + 1], 215 / 255.0f);  // B at (x 1, y 0)
  EXPECT_EQ((*data)->preprocessing(), "unit 4x6 rgb nchw");

  const std::string gray = folder_with("gray", {{"gray_5x5.png", "g.png"}});
  auto g = open_calibration_data(gray, {{"input", DType::kFloat32, {-1, 1, 5, 5}}}, {});
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_FLOAT_EQ(drain(**g)[0][0].tensor.data<float>()[13], 130 / 255.0f);
}

TEST(QuantCalibData, ImageNetPresetResizesCropsAndNormalizes) {
  const std::string dir = folder_with("imagenet", {{"gradient_320x240.jpg", "a.jpg"}});
  CalibrationDataOptions options;
  options.image = *ImagePreprocessing::from_preset("imagenet");
  auto data = open_calibration_data(dir, {{"input", DType::kFloat32, {-1, 3, -1, -1}}}, options);
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  auto batches = drain(**data);
  const Tensor& t = batches[0][0].tensor;
  ASSERT_EQ(t.shape(), (Shape{1, 3, 224, 224}));
  const float* p = t.data<float>();
  auto at = [&](int c, int y, int x) { return p[(c * 224 + y) * 224 + x]; };
  // 320x240 -> 341x256, center crop: x 58..281 of 341, so R spans 0.17..0.83 of full scale.
  EXPECT_NEAR(at(0, 112, 0), (58.5f / 341 - 0.485f) / 0.229f, 0.05f);
  EXPECT_NEAR(at(0, 112, 223), (281.5f / 341 - 0.485f) / 0.229f, 0.05f);
  EXPECT_NEAR(at(1, 112, 112), (128.0f / 256 - 0.456f) / 0.224f, 0.05f);
  EXPECT_NEAR(at(2, 50, 50), (128 / 255.0f - 0.406f) / 0.225f, 0.05f);
  EXPECT_EQ((*data)->preprocessing(), "imagenet 224x224 rgb nchw");
  EXPECT_FALSE(ImagePreprocessing::from_preset("caffe").is_ok());
}

TEST(QuantCalibData, BadImagesNameTheFile) {
  const std::string dir = folder_with("corrupt", {{"rgb_6x4.png", "a.png"}, {"corrupt.jpg", "b.jpg"}});
  CalibrationDataOptions options;
  options.batch_size = 1;
  auto data = open_calibration_data(dir, {{"input", DType::kFloat32, {-1, 3, 4, 6}}}, options);
  ASSERT_TRUE(data.is_ok()) << data.status().to_string();
  EXPECT_TRUE((*data)->next().is_ok());
  auto bad = (*data)->next();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("b.jpg: cannot decode image"), std::string::npos) << bad.status().message();

  const std::string ok = folder_with("shape", {{"rgb_6x4.png", "a.png"}});
  EXPECT_NE(open_error(ok, {{"input", DType::kFloat32, {-1, 3, 224}}}).find("N x C x H x W"), std::string::npos);
  EXPECT_NE(open_error(ok, {{"input", DType::kInt64, {-1, 3, 4, 6}}}).find("float32"), std::string::npos);
  CalibrationDataOptions gray;
  gray.image.channels = 1;
  EXPECT_NE(open_error(ok, {{"input", DType::kFloat32, {-1, 3, 4, 6}}}, gray).find("1 image channels"),
            std::string::npos);
}

}  // namespace
}  // namespace fulcrum::quant
