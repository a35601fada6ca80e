#include "passes_test_util.h"

#include <cmath>
#include <cstring>
#include <random>

#include "backends/executor.h"
#include "ir/graph_edit.h"

namespace fulcrum::testing {

GraphBuilder::GraphBuilder(int64_t opset) : opset_(opset), graph_(std::make_unique<ir::Graph>()) {
  graph_->opsets[""] = opset;
}

ir::Value* GraphBuilder::input(const std::string& name, DType dtype, const std::vector<int64_t>& dims) {
  ir::Value* v = *graph_->add_value(name);
  v->type.dtype = dtype;
  std::vector<ir::Dim> ds;
  for (int64_t d : dims) ds.push_back(ir::Dim{d, d < 0 ? "N" : ""});
  v->type.dims = ds;
  graph_->inputs.push_back(v);
  return v;
}

ir::Value* GraphBuilder::constant(const std::string& name, Tensor t) {
  ir::Value* v = *graph_->add_value(name);
  v->type.dtype = t.dtype();
  std::vector<ir::Dim> ds;
  for (int64_t d : t.shape()) ds.push_back(ir::Dim{d, ""});
  v->type.dims = ds;
  v->constant = std::move(t);
  return v;
}

ir::Node* GraphBuilder::node(const std::string& op, const std::vector<ir::Value*>& inputs,
                             const std::vector<std::string>& outputs, const ops::Attributes& attrs) {
  auto n = std::make_unique<ir::Node>();
  n->name = op + "_" + std::to_string(graph_->nodes().size());
  n->op_type = op;
  n->opset = opset_;
  n->inputs = inputs;
  n->attrs = attrs;
  for (const std::string& out : outputs) n->outputs.push_back(out.empty() ? nullptr : *graph_->add_value(out));
  ir::Node* added = graph_->add_node(std::move(n));
  for (ir::Value* v : added->outputs)
    if (v != nullptr) v->producer = added;
  Status parsed = added->parse_attributes();
  EXPECT_TRUE(parsed.is_ok()) << parsed.to_string();
  return added;
}

std::vector<Tensor> run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs) {
  std::shared_ptr<const ir::Graph> copy = ir::clone(graph);
  auto exec = backends::Executor::create(copy);
  EXPECT_TRUE(exec.is_ok()) << exec.status().to_string();
  if (!exec.is_ok()) return {};
  auto outs = (*exec)->run(inputs);
  EXPECT_TRUE(outs.is_ok()) << outs.status().to_string();
  return outs.is_ok() ? std::move(outs).value() : std::vector<Tensor>{};
}

void run_pass_and_compare(passes::Pass& pass, ir::Graph& graph, const std::vector<Tensor>& inputs, float tol) {
  std::vector<Tensor> before = run_graph(graph, inputs);
  std::vector<std::unique_ptr<passes::Pass>> list;
  passes::PassContext ctx;
  // run_passes takes ownership of passes; wrap the caller's pass without owning it.
  struct Borrowed : passes::Pass {
    explicit Borrowed(passes::Pass& p) : inner(p) {}
    std::string_view name() const override { return inner.name(); }
    Result<bool> run(ir::Graph& g, passes::PassContext& c) override { return inner.run(g, c); }
    passes::Pass& inner;
  };
  list.push_back(std::make_unique<Borrowed>(pass));
  auto stats = passes::run_passes(graph, list, ctx);
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_GE(stats->changes[std::string(pass.name())], 1) << "the pass changed nothing";
  std::vector<Tensor> after = run_graph(graph, inputs);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) expect_all_close(after[i], before[i], tol);
}

ir::Value* typed(ir::Node* n, const std::vector<int64_t>& dims) {
  ir::Value* v = n->outputs[0];
  v->type.dtype = DType::kFloat32;
  std::vector<ir::Dim> ds;
  for (int64_t d : dims) ds.push_back(ir::Dim{d, d < 0 ? "N" : ""});
  v->type.dims = ds;
  return v;
}

void expect_all_close(const Tensor& a, const Tensor& b, float tol) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  if (a.dtype() != DType::kFloat32) {
    ASSERT_EQ(a.nbytes(), b.nbytes());
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
    return;
  }
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], tol * (1 + std::fabs(b.data<float>()[i]))) << "at " << i;
}

Tensor random_floats(Shape shape, uint32_t seed, float lo, float hi) {
  Tensor t = Tensor::zeros(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = dist(rng);
  return t;
}

int count_ops(const ir::Graph& graph, const std::string& op_type) {
  int n = 0;
  for (const auto& node : graph.nodes()) n += node->op_type == op_type ? 1 : 0;
  return n;
}

}  // namespace fulcrum::testing
