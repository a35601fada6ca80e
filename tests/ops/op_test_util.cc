#include "op_test_util.h"

#include <cmath>

#include "backends/reference/util.h"

namespace fulcrum::testing {

OpRun run_op(const std::string& op_type, const std::vector<Tensor>& inputs, const ops::Attributes& attrs,
             size_t num_outputs, int64_t opset) {
  auto graph = std::make_shared<ir::Graph>();
  graph->opsets[""] = opset;
  auto node = std::make_unique<ir::Node>();
  node->name = "test_" + op_type;
  node->op_type = op_type;
  node->opset = opset;
  node->attrs = attrs;
  std::vector<Tensor> given;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      node->inputs.push_back(nullptr);
      continue;
    }
    ir::Value* v = *graph->add_value("in" + std::to_string(i));
    v->type.dtype = inputs[i].dtype();
    graph->inputs.push_back(v);
    node->inputs.push_back(v);
    given.push_back(inputs[i]);
  }
  for (size_t i = 0; i < num_outputs; ++i) node->outputs.push_back(*graph->add_value("out" + std::to_string(i)));
  ir::Node* n = graph->add_node(std::move(node));
  for (ir::Value* v : n->outputs) {
    v->producer = n;
    graph->outputs.push_back(v);
  }
  OpRun run;
  run.status = n->parse_attributes();
  if (!run.status.is_ok()) return run;
  auto exec = backends::Executor::create(graph);
  if (!exec.is_ok()) {
    run.status = exec.status();
    return run;
  }
  auto outs = (*exec)->run(given);
  if (!outs.is_ok()) {
    run.status = outs.status();
    return run;
  }
  run.outputs = std::move(outs).value();
  return run;
}

template <class T>
Tensor make_tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::zeros(backends::reference::dtype_of<T>(), std::move(shape));
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size()) << "make_tensor: value count does not match the shape";
  std::copy(values.begin(), values.end(), t.mutable_data<T>());
  return t;
}

template Tensor make_tensor<float>(Shape, const std::vector<float>&);
template Tensor make_tensor<double>(Shape, const std::vector<double>&);
template Tensor make_tensor<int8_t>(Shape, const std::vector<int8_t>&);
template Tensor make_tensor<uint8_t>(Shape, const std::vector<uint8_t>&);
template Tensor make_tensor<int32_t>(Shape, const std::vector<int32_t>&);
template Tensor make_tensor<int64_t>(Shape, const std::vector<int64_t>&);
template Tensor make_tensor<bool>(Shape, const std::vector<bool>&);

void expect_near(const Tensor& actual, const Shape& shape, const std::vector<float>& expected, float tol) {
  ASSERT_EQ(actual.dtype(), DType::kFloat32);
  ASSERT_EQ(actual.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(actual.numel()), expected.size());
  const float* a = actual.data<float>();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(a[i], expected[i], tol + tol * std::fabs(expected[i])) << "at flat index " << i;
}

}  // namespace fulcrum::testing
