// FP16 numerics: with KernelConfig::fp16_numerics the executor rounds the float32 outputs of
// FP16 layers to FP16 as they are produced (as a GPU's FP16 engine stores them), and leaves
// FP32 layers' outputs, graph inputs and constants alone.
#include <gtest/gtest.h>

#include <cstring>

#include "backends/executor.h"
#include "core/float16.h"
#include "core/float16_convert.h"
#include "passes_test_util.h"

namespace fulcrum::backends {
namespace {

using testing::GraphBuilder;

bool all_fp16(const Tensor& t) { return fp16_exact(t.data<float>(), static_cast<size_t>(t.numel())); }

// x -> Mul(x, k) [FP16] -> Add(., c) [FP32] -> "sum";  x -> Reshape [FP16] -> "flat".
std::shared_ptr<const ir::Graph> mixed_graph() {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 8});
  ir::Node* mul = b.node("Mul", {x, b.constant("k", testing::random_floats({8}, 1))}, {"m"});
  ir::Node* add = b.node("Add", {mul->outputs[0], b.constant("c", testing::random_floats({8}, 2))}, {"sum"});
  ir::Node* reshape =
      b.node("Reshape", {x, b.constant("shape", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {16}))}, {"flat"});
  mul->precision = Precision::kFp16;
  reshape->precision = Precision::kFp16;
  b.output(mul->outputs[0]);
  b.output(add->outputs[0]);
  b.output(reshape->outputs[0]);
  return std::make_shared<const ir::Graph>(std::move(b.graph()));
}

TEST(Fp16Numerics, RoundsFp16LayersOutputsOnly) {
  std::shared_ptr<const ir::Graph> graph = mixed_graph();
  auto plain = Executor::create(graph, {&reference_backend()}, KernelConfig{});
  auto fp16 = Executor::create(graph, {&reference_backend()}, KernelConfig{0, true});
  ASSERT_TRUE(plain.is_ok() && fp16.is_ok());
  const Tensor x = testing::random_floats({2, 8}, 3);
  const Tensor x_before = x.clone();
  ExecutorState state;
  for (int run = 0; run < 3; ++run) {  // the first run records a memory plan, later ones follow it
    auto want = (*plain)->run({x});
    auto got = (*fp16)->run({x}, state);
    ASSERT_TRUE(want.is_ok() && got.is_ok()) << got.status().to_string();
    const Tensor& m = (*got)[0];
    const Tensor& sum = (*got)[1];
    const Tensor& flat = (*got)[2];
    // The FP16 Mul's output is its FP32 result rounded to FP16.
    ASSERT_TRUE(all_fp16(m));
    for (int64_t i = 0; i < m.numel(); ++i)
      ASSERT_EQ(m.data<float>()[i], half_to_float(float_to_half((*want)[0].data<float>()[i])));
    // The FP32 Add computes on the rounded input, and its own output is not rounded.
    EXPECT_FALSE(all_fp16(sum));
    for (int64_t i = 0; i < sum.numel(); ++i)
      ASSERT_EQ(sum.data<float>()[i], m.data<float>()[i] + graph->find_value("c")->constant.data<float>()[i % 8]);
    // The FP16 Reshape viewed the graph input: it gets a rounded copy, the input is untouched.
    ASSERT_TRUE(all_fp16(flat));
    EXPECT_NE(flat.raw(), x.raw());
    EXPECT_EQ(std::memcmp(x.raw(), x_before.raw(), x.nbytes()), 0);
    for (int64_t i = 0; i < flat.numel(); ++i)
      ASSERT_EQ(flat.data<float>()[i], half_to_float(float_to_half(x.data<float>()[i])));
  }
  EXPECT_EQ(state.plans_recorded(), 1u) << "the rounding keeps runs consistent with the recorded plan";
}

TEST(Fp16Numerics, OffByDefault) {
  std::shared_ptr<const ir::Graph> graph = mixed_graph();
  auto exec = Executor::create(graph, {&reference_backend()}, KernelConfig{});
  ASSERT_TRUE(exec.is_ok());
  const Tensor x = testing::random_floats({2, 8}, 3);
  auto got = (*exec)->run({x});
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(all_fp16((*got)[0])) << "FP16 weights alone do not round activations";
  EXPECT_EQ((*got)[2].raw(), x.raw()) << "the Reshape is still a view";
}

TEST(Fp16Numerics, AViewOfFp16ValuesIsNotCopied) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {2, 8});
  ir::Node* relu = b.node("Relu", {x}, {"r"});
  ir::Node* reshape =
      b.node("Reshape", {relu->outputs[0], b.constant("shape", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {16}))},
             {"flat"});
  relu->precision = Precision::kFp16;
  reshape->precision = Precision::kFp16;
  b.output(relu->outputs[0]);
  b.output(reshape->outputs[0]);
  std::shared_ptr<const ir::Graph> graph = std::make_shared<const ir::Graph>(std::move(b.graph()));
  auto exec = Executor::create(graph, {&reference_backend()}, KernelConfig{0, true});
  ASSERT_TRUE(exec.is_ok());
  auto got = (*exec)->run({testing::random_floats({2, 8}, 4)});
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(all_fp16((*got)[0]));
  EXPECT_EQ((*got)[1].raw(), (*got)[0].raw()) << "the Reshape's input is FP16 already: it stays a view";
}

}  // namespace
}  // namespace fulcrum::backends
