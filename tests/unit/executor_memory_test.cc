// The executor's memory: weights every consumer packed are freed, activations come from a
// per-state arena after the first run with given input shapes, and views keep what they
// view alive.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "backends/executor.h"
#include "passes_test_util.h"

namespace fulcrum::backends {
namespace {

using testing::GraphBuilder;
using testing::random_floats;
using testing::to_vector;

// Mul by a constant scalar, which the kernel copies at creation ("packs") and releases.
class PackedScaleKernel : public Kernel {
 public:
  explicit PackedScaleKernel(float scale) : scale_(scale) {}
  bool release_constant_input(size_t i) override { return i == 1; }
  size_t packed_bytes() const override { return sizeof scale_; }
  Status run(KernelContext& ctx) override {
    seen_scale_data_ = ctx.input(1).raw();
    seen_scale_shape_ = ctx.input(1).shape();
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y.mutable_data<float>()[i] = x.data<float>()[i] * scale_;
    return Status::ok();
  }
  static inline const void* seen_scale_data_ = nullptr;
  static inline Shape seen_scale_shape_;

 private:
  float scale_;
};

class PackingBackend : public Backend {
 public:
  std::string_view name() const override { return "packing"; }
  Result<std::unique_ptr<Kernel>> create(const ir::Node& node, const KernelConfig&) override {
    if (node.op_type != "Mul" || !node.inputs[1]->is_constant()) return std::unique_ptr<Kernel>();
    return std::unique_ptr<Kernel>(std::make_unique<PackedScaleKernel>(node.inputs[1]->constant.data<float>()[0]));
  }
};

std::vector<Backend*> packing_chain() {
  static PackingBackend packing;
  return {&packing, &reference_backend()};
}

TEST(ExecutorMemoryTest, FreesAConstantEveryConsumerPacked) {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {2});
  ir::Value* w = g.constant("w", Tensor::from_vector<float>(DType::kFloat32, {1}, {3.0f}));
  g.output(g.node("Mul", {x, w}, {"y"})->outputs[0]);
  auto graph = std::make_unique<ir::Graph>(std::move(g.graph()));
  const ir::Value* w_in_graph = graph->find_value("w");
  auto exec = Executor::create(std::move(graph), packing_chain(), KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();

  EXPECT_EQ((*exec)->weight_info().model_bytes, 4u);
  EXPECT_EQ((*exec)->weight_info().constant_bytes, 0u);
  EXPECT_EQ((*exec)->weight_info().packed_bytes, 4u);
  // The graph the executor owns keeps the constant's type, not its bytes.
  EXPECT_EQ(w_in_graph->constant.raw(), nullptr);
  EXPECT_EQ(w_in_graph->constant.shape(), Shape{1});
  EXPECT_TRUE(w_in_graph->is_constant());

  auto out = (*exec)->run({Tensor::from_vector<float>(DType::kFloat32, {2}, {1.0f, -2.0f})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(to_vector<float>((*out)[0]), (std::vector<float>{3.0f, -6.0f}));
  EXPECT_EQ(PackedScaleKernel::seen_scale_data_, nullptr);
  EXPECT_EQ(PackedScaleKernel::seen_scale_shape_, Shape{1});
}

TEST(ExecutorMemoryTest, KeepsAConstantAnotherConsumerReads) {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {2});
  ir::Value* w = g.constant("w", Tensor::from_vector<float>(DType::kFloat32, {1}, {3.0f}));
  g.output(g.node("Mul", {x, w}, {"y"})->outputs[0]);
  g.output(g.node("Add", {x, w}, {"z"})->outputs[0]);  // the reference kernel reads w
  auto graph = std::make_unique<ir::Graph>(std::move(g.graph()));
  const ir::Value* w_in_graph = graph->find_value("w");
  auto exec = Executor::create(std::move(graph), packing_chain(), KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  EXPECT_EQ((*exec)->weight_info().constant_bytes, 4u);
  EXPECT_NE(w_in_graph->constant.raw(), nullptr);
  auto out = (*exec)->run({Tensor::from_vector<float>(DType::kFloat32, {2}, {1.0f, -2.0f})});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(to_vector<float>((*out)[0]), (std::vector<float>{3.0f, -6.0f}));
  EXPECT_EQ(to_vector<float>((*out)[1]), (std::vector<float>{4.0f, 1.0f}));
}

TEST(ExecutorMemoryTest, ASharedGraphKeepsItsConstants) {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {2});
  ir::Value* w = g.constant("w", Tensor::from_vector<float>(DType::kFloat32, {1}, {3.0f}));
  g.output(g.node("Mul", {x, w}, {"y"})->outputs[0]);
  std::shared_ptr<const ir::Graph> graph = std::make_shared<ir::Graph>(std::move(g.graph()));
  auto exec = Executor::create(graph, packing_chain(), KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  EXPECT_EQ((*exec)->weight_info().constant_bytes, 0u);        // the executor holds none
  EXPECT_NE(graph->find_value("w")->constant.raw(), nullptr);  // the caller's graph keeps it
}

// f = (relu(x) + -sigmoid(x))^2, where relu(x) and -sigmoid(x) are read through Reshape
// views long after the tensors they view were last read by name: a planner that ignored the
// views would hand their bytes to later tensors.
std::unique_ptr<ir::Graph> graph_with_views() {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {-1, 8});
  ir::Value* flat = g.constant("flat", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {-1}));
  ir::Value* a = g.node("Relu", {x}, {"a"})->outputs[0];
  ir::Value* b = g.node("Reshape", {a, flat}, {"b"})->outputs[0];
  ir::Value* c = g.node("Sigmoid", {x}, {"c"})->outputs[0];
  ir::Value* d = g.node("Neg", {c}, {"d"})->outputs[0];
  ir::Value* dr = g.node("Reshape", {d, flat}, {"dr"})->outputs[0];
  ir::Value* e = g.node("Add", {b, dr}, {"e"})->outputs[0];
  g.output(g.node("Mul", {e, e}, {"f"})->outputs[0]);
  return std::make_unique<ir::Graph>(std::move(g.graph()));
}

std::vector<float> expected_f(const Tensor& x) {
  std::vector<float> out;
  for (float v : to_vector<float>(x)) {
    const float e = std::max(v, 0.0f) - 1.0f / (1.0f + std::exp(-v));
    out.push_back(e * e);
  }
  return out;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << "element " << i;
}

TEST(ExecutorMemoryTest, SecondRunTakesEveryIntermediateFromTheArena) {
  auto exec = Executor::create(graph_with_views(), {&reference_backend()}, KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  ExecutorState state;
  for (uint32_t run = 0; run < 4; ++run) {
    const Tensor x = random_floats({4, 8}, 100 + run, -3.0f, 3.0f);
    auto out = (*exec)->run({x}, state);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    expect_near(to_vector<float>((*out)[0]), expected_f(x));
    EXPECT_EQ(state.plans_recorded(), 1u);
    // The recording run allocates all five computed tensors; later runs only the output,
    // which the caller keeps.
    EXPECT_EQ(state.heap_allocations(), run == 0 ? 5u : 1u) << "run " << run;
  }
  // Four intermediates of 128 bytes; a (kept by its view b until Add), d (kept by dr) and e
  // are live together at Add, and c's bytes are reused by e.
  EXPECT_EQ(state.arena_bytes(), 3 * 128u);
}

TEST(ExecutorMemoryTest, PlansPerInputShape) {
  auto exec = Executor::create(graph_with_views(), {&reference_backend()}, KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  ExecutorState state;
  size_t largest = 0;
  for (int64_t batch : {2, 16, 2, 16, 1}) {
    const Tensor x = random_floats({batch, 8}, static_cast<uint32_t>(batch), -3.0f, 3.0f);
    auto out = (*exec)->run({x}, state);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    expect_near(to_vector<float>((*out)[0]), expected_f(x));
    largest = std::max(largest, state.arena_bytes());
  }
  EXPECT_EQ(state.plans_recorded(), 3u);    // batches 2, 16 and 1
  EXPECT_EQ(state.arena_bytes(), largest);  // the arena never shrinks below a stored plan
}

TEST(ExecutorMemoryTest, OutputsAndViewsOfThemOutliveLaterRuns) {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {2, 4});
  ir::Value* flat = g.constant("flat", Tensor::from_vector<int64_t>(DType::kInt64, {1}, {-1}));
  ir::Value* r = g.node("Relu", {x}, {"r"})->outputs[0];
  ir::Value* n = g.node("Neg", {r}, {"n"})->outputs[0];
  g.output(g.node("Reshape", {n, flat}, {"view"})->outputs[0]);  // a graph output viewing n
  auto exec =
      Executor::create(std::make_unique<ir::Graph>(std::move(g.graph())), {&reference_backend()}, KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  ExecutorState state;
  std::vector<Tensor> kept;
  std::vector<std::vector<float>> values;
  for (uint32_t run = 0; run < 3; ++run) {
    auto out = (*exec)->run({random_floats({2, 4}, run)}, state);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    kept.push_back((*out)[0]);
    values.push_back(to_vector<float>((*out)[0]));
  }
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(to_vector<float>(kept[i]), values[i]) << "run " << i;
  EXPECT_EQ(state.heap_allocations(), 1u);  // n, viewed by the output; r came from the arena
}

TEST(ExecutorMemoryTest, ContextsRunConcurrentlyEachWithItsArena) {
  auto exec = Executor::create(graph_with_views(), {&reference_backend()}, KernelConfig{});
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  auto worker = [&](uint32_t seed, int* failures) {
    ExecutorState state;
    for (uint32_t run = 0; run < 50; ++run) {
      const Tensor x = random_floats({3, 8}, seed + run, -3.0f, 3.0f);
      auto out = (*exec)->run({x}, state);
      if (!out.is_ok()) {
        ++*failures;
        continue;
      }
      const std::vector<float> got = to_vector<float>((*out)[0]), want = expected_f(x);
      for (size_t i = 0; i < got.size(); ++i)
        if (std::abs(got[i] - want[i]) > 1e-5f) ++*failures;
    }
    if (state.plans_recorded() != 1) ++*failures;  // each state planned once, for its own runs
  };
  int failures_a = 0, failures_b = 0;
  std::thread a(worker, 1000u, &failures_a), b(worker, 2000u, &failures_b);
  a.join();
  b.join();
  EXPECT_EQ(failures_a, 0);
  EXPECT_EQ(failures_b, 0);
}

}  // namespace
}  // namespace fulcrum::backends
