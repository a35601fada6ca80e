// Helpers for pass tests: build a small graph in code, run it on the reference backend
// before and after a pass, and compare.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fulcrum/tensor.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace fulcrum::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17);
  // A graph input; -1 in `dims` is a symbolic dim.
  ir::Value* input(const std::string& name, DType dtype, const std::vector<int64_t>& dims);
  ir::Value* constant(const std::string& name, Tensor t);
  // A node of the default domain with named outputs ("" for an omitted output); its
  // attributes are parsed; output types are left unknown.
  ir::Node* node(const std::string& op, const std::vector<ir::Value*>& inputs, const std::vector<std::string>& outputs,
                 const ops::Attributes& attrs = {});
  void output(ir::Value* v) { graph_->outputs.push_back(v); }
  ir::Graph& graph() { return *graph_; }

 private:
  int64_t opset_;
  std::unique_ptr<ir::Graph> graph_;
};

// Runs the graph (a clone of it) on the reference backend.
std::vector<Tensor> run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs);
// Runs `pass` on `graph` through run_passes (so the graph is verified), checks it reported a
// change, and that the outputs on `inputs` are the same before and after (within `tol`).
void run_pass_and_compare(passes::Pass& pass, ir::Graph& graph, const std::vector<Tensor>& inputs, float tol = 1e-5f);
void expect_all_close(const Tensor& a, const Tensor& b, float tol);
Tensor random_floats(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
int count_ops(const ir::Graph& graph, const std::string& op_type);
// Types `n`'s first output float32 with `dims` (a negative dim is the symbolic "N"), as ONNX
// shape inference would on import (GraphBuilder leaves output types unknown); returns it.
ir::Value* typed(ir::Node* n, const std::vector<int64_t>& dims);
template <class T>
std::vector<T> to_vector(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

}  // namespace fulcrum::testing
