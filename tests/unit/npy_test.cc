#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fulcrum/npy.h"

namespace fulcrum {
namespace {

std::string temp_path(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

TEST(Npy, RoundTripsEveryRank) {
  for (Shape shape : {Shape{}, Shape{5}, Shape{2, 3}, Shape{1, 2, 3, 4}}) {
    Tensor t = Tensor::zeros(DType::kFloat32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = static_cast<float>(i) * 0.5f;
    std::string path = temp_path("fulcrum_npy_roundtrip.npy");
    ASSERT_TRUE(save_npy(path, t).is_ok());
    auto back = load_npy(path);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->shape(), shape);
    EXPECT_EQ(back->dtype(), DType::kFloat32);
    for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(back->data<float>()[i], t.data<float>()[i]);
  }
}

TEST(Npy, TruncatedFileNamesTheFile) {
  Tensor t = Tensor::zeros(DType::kInt64, {100});
  std::string path = temp_path("fulcrum_npy_truncated.npy");
  ASSERT_TRUE(save_npy(path, t).is_ok());
  std::filesystem::resize_file(path, 200);
  auto back = load_npy(path);
  ASSERT_FALSE(back.is_ok());
  EXPECT_NE(back.status().message().find(path), std::string::npos);
  EXPECT_NE(back.status().message().find("truncated"), std::string::npos);
}

TEST(Npy, GarbageIsNotAnNpyFile) {
  std::string path = temp_path("fulcrum_npy_garbage.npy");
  std::ofstream(path) << "hello world, not numpy";
  auto back = load_npy(path);
  ASSERT_FALSE(back.is_ok());
  EXPECT_EQ(back.status().code(), StatusCode::kParseError);
}

}  // namespace
}  // namespace fulcrum
