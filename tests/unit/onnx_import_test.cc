#include <gtest/gtest.h>

#include <filesystem>

#include "fulcrum/fulcrum.h"
#include "ir/graph.h"

namespace fulcrum {
namespace {

const std::string kData = "/usr/share/libonnx-testdata/data";

TEST(OnnxImport, InitializersBecomeConstantsNotInputs) {
  std::string path = kData + "/pytorch-converted/test_Conv2d/model.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "libonnx-testdata is not installed";
  auto net = Network::from_onnx_file(path);
  ASSERT_TRUE(net.is_ok()) << net.status().to_string();
  EXPECT_EQ((*net)->inputs().size(), 1u) << "the weights are listed as inputs (IR < 4) but are initializers";
  EXPECT_GT((*net)->weight_bytes(), 0u);
  EXPECT_TRUE(ir::verify(*(*net)->graph()).is_ok());
  EXPECT_EQ((*net)->inputs()[0].dtype, DType::kFloat32);
}

TEST(OnnxImport, ShapeInferenceTypesIntermediateValues) {
  std::string path = kData + "/node/test_add/model.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "libonnx-testdata is not installed";
  auto net = Network::from_onnx_file(path);
  ASSERT_TRUE(net.is_ok()) << net.status().to_string();
  auto outs = (*net)->outputs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].shape, (std::vector<int64_t>{3, 4, 5}));
}

TEST(OnnxImport, MissingFileIsNotFound) {
  auto net = Network::from_onnx_file("/nonexistent/model.onnx");
  ASSERT_FALSE(net.is_ok());
  EXPECT_EQ(net.status().code(), StatusCode::kNotFound);
  EXPECT_NE(net.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum
