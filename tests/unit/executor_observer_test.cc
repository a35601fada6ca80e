// The executor's tensor observer (what INT8 calibration reads activations with): it sees each
// graph input, then every step's outputs in execution order, once per run, with the values the
// run computed, also on a state whose arena was planned before; a failing observer fails the run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/executor.h"
#include "passes_test_util.h"

namespace fulcrum::backends {
namespace {

using testing::GraphBuilder;
using testing::to_vector;

// y = Relu(x * w) + x: two intermediates and an output, one constant.
std::shared_ptr<const ir::Graph> small_graph() {
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kFloat32, {3});
  ir::Value* w = g.constant("w", Tensor::from_vector<float>(DType::kFloat32, {3}, {2.0f, -1.0f, 0.5f}));
  ir::Value* m = g.node("Mul", {x, w}, {"m"})->outputs[0];
  ir::Value* r = g.node("Relu", {m}, {"r"})->outputs[0];
  g.output(g.node("Add", {r, x}, {"y"})->outputs[0]);
  return std::make_shared<const ir::Graph>(std::move(g.graph()));
}

struct Seen {
  std::string name;
  std::vector<float> values;
};

TEST(ExecutorObserverTest, SeesInputsThenEveryOutputOncePerRun) {
  auto exec = Executor::create(small_graph());
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  ExecutorState state;
  const Tensor x = Tensor::from_vector<float>(DType::kFloat32, {3}, {1.0f, 2.0f, 4.0f});
  // A planned run first: the observed runs that follow must still see each value once.
  ASSERT_TRUE((*exec)->run({x}, state).is_ok());
  ASSERT_TRUE((*exec)->run({x}, state).is_ok());

  std::vector<Seen> seen;
  state.set_observer([&](const std::string& name, const Tensor& value) {
    seen.push_back({name, to_vector<float>(value)});
    return Status::ok();
  });
  for (int run = 0; run < 2; ++run) {
    auto out = (*exec)->run({x}, state);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(to_vector<float>((*out)[0]), (std::vector<float>{3.0f, 2.0f, 6.0f}));
  }
  ASSERT_EQ(seen.size(), 8u);
  const std::vector<std::string> order = {"x", "m", "r", "y"};
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].name, order[i % 4]) << i;
  EXPECT_EQ(seen[1].values, (std::vector<float>{2.0f, -2.0f, 2.0f}));
  EXPECT_EQ(seen[2].values, (std::vector<float>{2.0f, 0.0f, 2.0f}));

  // Removed, the observer sees nothing more.
  state.set_observer(nullptr);
  ASSERT_TRUE((*exec)->run({x}, state).is_ok());
  EXPECT_EQ(seen.size(), 8u);
}

TEST(ExecutorObserverTest, AFailingObserverFailsTheRunNamingTheNode) {
  auto exec = Executor::create(small_graph());
  ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
  ExecutorState state;
  state.set_observer([](const std::string& name, const Tensor&) {
    return name == "r" ? Status(StatusCode::kInvalidArgument, "tensor 'r' rejected") : Status::ok();
  });
  auto out = (*exec)->run({Tensor::from_vector<float>(DType::kFloat32, {3}, {1.0f, 2.0f, 4.0f})}, state);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("tensor 'r' rejected"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("Relu"), std::string::npos) << out.status().message();
}

}  // namespace
}  // namespace fulcrum::backends
