// The CPU backend's float32 elementwise kernels against the reference backend, including
// the cases they hand back to the reference kernel (broadcasting, integers).
#include "cpu_test_util.h"

namespace fulcrum::testing {
namespace {

Tensor scalar(float v) {
  Tensor t = Tensor::zeros(DType::kFloat32, {});
  t.mutable_data<float>()[0] = v;
  return t;
}

TEST(CpuElementwise, ActivationsMatchReference) {
  const Shape shape = {2, 5, 7, 3};
  uint32_t seed = 1;
  for (const char* op : {"Relu", "Sigmoid", "HardSwish"}) {
    SCOPED_TRACE(op);
    expect_cpu_matches_reference({op, {{random_tensor(shape, seed++)}}}, "cpu");
  }
  expect_cpu_matches_reference({"LeakyRelu", {{random_tensor(shape, seed++)}}, {{"alpha", 0.2f}}}, "cpu");
  expect_cpu_matches_reference({"HardSigmoid", {{random_tensor(shape, seed++)}}, {{"alpha", 0.3f}, {"beta", 0.4f}}},
                               "cpu");
}

TEST(CpuElementwise, ClipWithConstantBoundsOrNone) {
  expect_cpu_matches_reference({"Clip", {{random_tensor({3, 4, 5}, 7)}, {scalar(-0.25f), true}, {scalar(0.5f), true}}},
                               "cpu");
  expect_cpu_matches_reference({"Clip", {{random_tensor({3, 4, 5}, 8)}, {Tensor(), false}, {scalar(0.1f), true}}},
                               "cpu");
  expect_cpu_matches_reference({"Clip", {{random_tensor({17}, 9)}}}, "cpu");
  // A bound that arrives at run time is the reference kernel's.
  expect_cpu_matches_reference({"Clip", {{random_tensor({3, 4}, 10)}, {scalar(-0.2f)}}}, "reference");
}

TEST(CpuElementwise, BinaryOpsSameShapeAndScalar) {
  uint32_t seed = 20;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    SCOPED_TRACE(op);
    expect_cpu_matches_reference({op, {{random_tensor({2, 3, 5}, seed++)}, {random_tensor({2, 3, 5}, seed++)}}}, "cpu");
    expect_cpu_matches_reference({op, {{random_tensor({2, 3, 5}, seed++)}, {scalar(0.75f), true}}}, "cpu");
    expect_cpu_matches_reference({op, {{scalar(-1.5f), true}, {random_tensor({4, 3}, seed++)}}}, "cpu");
  }
}

TEST(CpuElementwise, BroadcastingAndIntegersStillCorrect) {
  // Taken by the cpu backend, but the kernel hands these shapes to the reference code.
  expect_cpu_matches_reference({"Add", {{random_tensor({2, 3, 4}, 30)}, {random_tensor({3, 1}, 31)}}}, "cpu");
  expect_cpu_matches_reference({"Mul", {{random_tensor({1, 4}, 32)}, {random_tensor({3, 1}, 33)}}}, "cpu");
  Tensor a = Tensor::zeros(DType::kInt64, {4});
  Tensor b = Tensor::zeros(DType::kInt64, {4});
  for (int64_t i = 0; i < 4; ++i) {
    a.mutable_data<int64_t>()[i] = i * 7 - 3;
    b.mutable_data<int64_t>()[i] = 2 - i;
  }
  std::vector<Tensor> feeds;
  auto graph = one_node_graph({"Sub", {{a}, {b}}}, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  auto out = exec->run(feeds);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  const int64_t* y = (*out)[0].data<int64_t>();
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(y[i], (i * 7 - 3) - (2 - i));
}

}  // namespace
}  // namespace fulcrum::testing
