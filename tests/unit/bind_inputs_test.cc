#include <gtest/gtest.h>

#include "runtime/tensor_desc.h"

namespace fulcrum::runtime {
namespace {

TensorDesc desc(const std::string& name, std::vector<int64_t> shape, std::vector<std::string> dims) {
  return TensorDesc{name, DType::kInt64, std::move(shape), std::move(dims), true};
}

TEST(BindInputs, NamedSymbolicDimensionMustAgreeAcrossInputs) {
  std::vector<TensorDesc> declared = {desc("ids", {-1, -1}, {"batch", "seq"}),
                                      desc("mask", {-1, -1}, {"batch", "seq"})};
  auto ok = bind_inputs(
      declared, {{"ids", Tensor::zeros(DType::kInt64, {2, 7})}, {"mask", Tensor::zeros(DType::kInt64, {2, 7})}});
  EXPECT_TRUE(ok.is_ok()) << ok.status().to_string();
  auto bad = bind_inputs(
      declared, {{"ids", Tensor::zeros(DType::kInt64, {2, 7})}, {"mask", Tensor::zeros(DType::kInt64, {2, 8})}});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("dimension 'seq' is 8 here but 7"), std::string::npos)
      << bad.status().message();
}

TEST(BindInputs, AnonymousDimensionsAreIndependent) {
  // Paddle writes "?" for every unknown dimension: a 48 x 192 image is fine.
  std::vector<TensorDesc> declared = {desc("x", {-1, 3, -1, -1}, {"?", "", "?", "?"})};
  auto ok = bind_inputs(declared, {{"x", Tensor::zeros(DType::kInt64, {1, 3, 48, 192})}});
  EXPECT_TRUE(ok.is_ok()) << ok.status().to_string();
}

TEST(BindInputs, ReturnsTensorsInTheModelsOrder) {
  std::vector<TensorDesc> declared = {desc("a", {1}, {""}), desc("b", {2}, {""})};
  auto bound =
      bind_inputs(declared, {{"b", Tensor::zeros(DType::kInt64, {2})}, {"a", Tensor::zeros(DType::kInt64, {1})}});
  ASSERT_TRUE(bound.is_ok());
  EXPECT_EQ((*bound)[0].shape(), Shape{1});
  EXPECT_EQ((*bound)[1].shape(), Shape{2});
}

}  // namespace
}  // namespace fulcrum::runtime
