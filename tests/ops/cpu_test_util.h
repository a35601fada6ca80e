// Differential testing of the CPU backend: one node, built in code with some inputs as
// graph constants (weights), run on {cpu, reference} and on the reference alone.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/executor.h"
#include "ir/graph.h"

namespace fulcrum::testing {

// The tolerance of every CPU test: max |cpu - reference| over the output, relative to the
// output's largest magnitude. oneDNN sums in another order (and blocks K), so results
// differ in the last bits; 1e-4 is ~1000 float32 ulps of the output's scale, loose enough
// for 3000-term sums and tight enough to catch any indexing or padding mistake.
inline constexpr double kCpuTolerance = 1e-4;

struct NodeInput {
  NodeInput(Tensor t, bool is_constant = false) : tensor(std::move(t)), constant(is_constant) {}
  Tensor tensor;          // undefined: an omitted optional input
  bool constant = false;  // a graph constant (initializer) rather than a graph input
};

struct NodeSpec {
  NodeSpec(std::string op, std::vector<NodeInput> ins, ops::Attributes a = {}, size_t outputs = 1)
      : op_type(std::move(op)), inputs(std::move(ins)), attrs(std::move(a)), num_outputs(outputs) {}
  std::string op_type;
  std::vector<NodeInput> inputs;
  ops::Attributes attrs;
  size_t num_outputs = 1;
  std::string domain;  // "" (ONNX, opset 17) or "fulcrum" (opset 1)
  std::string name = "n0";
  // Declare graph inputs with their shapes (as the importer does); false leaves the rank
  // unknown, so kernels learn shapes only when they run.
  bool declare_shapes = true;
  bool symbolic_batch = false;  // declare dim 0 as symbolic "N"
};

inline Tensor random_tensor(Shape shape, uint32_t seed = 0, DType dtype = DType::kFloat32) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::kFloat64)
      t.mutable_data<double>()[i] = dist(rng);
    else
      t.mutable_data<float>()[i] = dist(rng);
  }
  return t;
}

// A graph of the one node `spec` describes; graph inputs are declared with their shapes
// unless spec.declare_shapes is false (dim 0 as the symbolic "N" with spec.symbolic_batch),
// constants always. The status of parsing the node's attributes goes to `parsed` when
// given, else it must be OK.
inline std::shared_ptr<ir::Graph> one_node_graph(const NodeSpec& spec, std::vector<Tensor>& feeds,
                                                 Status* parsed = nullptr) {
  auto graph = std::make_shared<ir::Graph>();
  graph->opsets[""] = 17;
  if (!spec.domain.empty()) graph->opsets[spec.domain] = 1;
  auto node = std::make_unique<ir::Node>();
  node->name = spec.name;
  node->op_type = spec.op_type;
  node->domain = spec.domain;
  node->opset = spec.domain.empty() ? 17 : 1;
  node->attrs = spec.attrs;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const NodeInput& in = spec.inputs[i];
    if (!in.tensor.defined()) {
      node->inputs.push_back(nullptr);
      continue;
    }
    ir::Value* v = *graph->add_value("in" + std::to_string(i));
    v->type.dtype = in.tensor.dtype();
    if (in.constant || spec.declare_shapes) {
      std::vector<ir::Dim> dims;
      for (int64_t d : in.tensor.shape()) dims.push_back(ir::Dim{d, ""});
      if (spec.symbolic_batch && !in.constant && !dims.empty()) dims[0] = ir::Dim{-1, "N"};
      v->type.dims = dims;
    }
    if (in.constant) {
      v->constant = in.tensor;
    } else {
      graph->inputs.push_back(v);
      feeds.push_back(in.tensor);
    }
    node->inputs.push_back(v);
  }
  for (size_t i = 0; i < spec.num_outputs; ++i) node->outputs.push_back(*graph->add_value("out" + std::to_string(i)));
  ir::Node* n = graph->add_node(std::move(node));
  for (ir::Value* v : n->outputs) {
    v->producer = n;
    graph->outputs.push_back(v);
  }
  Status s = n->parse_attributes();
  if (parsed != nullptr)
    *parsed = s;
  else
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  return graph;
}

// max |a - r| / max |r| (0 when both are all zeros).
inline double max_relative_error(const Tensor& actual, const Tensor& expected) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    diff = std::max(diff, std::fabs(double(actual.data<float>()[i]) - double(expected.data<float>()[i])));
    scale = std::max(scale, std::fabs(double(expected.data<float>()[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The backend {cpu, reference} placed the node on, or "" when the executor failed to build.
inline std::string placed_on(const backends::Executor& exec) {
  auto placement = exec.placement();
  return placement.empty() ? "" : std::string(placement[0].second);
}

inline std::unique_ptr<backends::Executor> cpu_executor(std::shared_ptr<ir::Graph> graph, int threads = 2) {
  auto exec = backends::Executor::create(graph, {&backends::cpu_backend(), &backends::reference_backend()},
                                         backends::KernelConfig{threads});
  EXPECT_TRUE(exec.is_ok()) << exec.status().to_string();
  return exec.is_ok() ? std::move(exec).value() : nullptr;
}

// Runs `feeds` through `exec` and through the reference backend; expects the outputs to
// agree within kCpuTolerance.
inline void expect_matches_reference(const backends::Executor& exec, std::shared_ptr<ir::Graph> graph,
                                     const std::vector<Tensor>& feeds) {
  auto ref_exec = backends::Executor::create(graph);
  ASSERT_TRUE(ref_exec.is_ok()) << ref_exec.status().to_string();
  auto expected = (*ref_exec)->run(feeds);
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  auto actual = exec.run(feeds);
  ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
  ASSERT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < expected->size(); ++i) {
    const Tensor& a = (*actual)[i];
    const Tensor& e = (*expected)[i];
    ASSERT_EQ(a.dtype(), e.dtype());
    ASSERT_EQ(a.shape(), e.shape()) << "output " << i;
    if (a.dtype() != DType::kFloat32) continue;
    EXPECT_LE(max_relative_error(a, e), kCpuTolerance) << "output " << i << " " << shape_to_string(e.shape());
  }
}

// Builds the node, expects it on `backend`, and compares with the reference.
inline void expect_cpu_matches_reference(const NodeSpec& spec, const std::string& backend = "cpu") {
  std::vector<Tensor> feeds;
  auto graph = one_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(placed_on(*exec), backend) << spec.op_type;
  expect_matches_reference(*exec, graph, feeds);
}

// One executor (one kernel, placed on the CPU backend) run once per entry of `runs`, each
// against the reference: a kernel must serve every input shape, not only the declared one.
inline void expect_cpu_serves_shapes(const NodeSpec& spec, const std::vector<std::vector<Tensor>>& runs) {
  std::vector<Tensor> feeds;
  auto graph = one_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(placed_on(*exec), "cpu") << spec.op_type;
  for (size_t i = 0; i < runs.size(); ++i) {
    SCOPED_TRACE(shape_to_string(runs[i].at(0).shape()));
    expect_matches_reference(*exec, graph, runs[i]);
  }
}

}  // namespace fulcrum::testing
