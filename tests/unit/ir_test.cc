#include <gtest/gtest.h>

#include "ir/graph.h"

namespace fulcrum::ir {
namespace {

// x -> A -> a -> B -> y, built in the given node order.
std::unique_ptr<Graph> chain(bool reversed) {
  auto g = std::make_unique<Graph>();
  Value* x = *g->add_value("x");
  Value* a = *g->add_value("a");
  Value* y = *g->add_value("y");
  g->inputs = {x};
  g->outputs = {y};
  auto make = [&](const char* name, Value* in, Value* out) {
    auto n = std::make_unique<Node>();
    n->name = name;
    n->op_type = "Relu";
    n->inputs = {in};
    n->outputs = {out};
    Node* p = g->add_node(std::move(n));
    out->producer = p;
  };
  if (reversed) {
    make("B", a, y);
    make("A", x, a);
  } else {
    make("A", x, a);
    make("B", a, y);
  }
  return g;
}

TEST(Graph, ValueNamesAreUnique) {
  Graph g;
  ASSERT_TRUE(g.add_value("t").is_ok());
  auto again = g.add_value("t");
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("'t'"), std::string::npos);
}

TEST(Graph, TopologicalSortRestoresOrder) {
  auto g = chain(/*reversed=*/true);
  EXPECT_FALSE(verify(*g).is_ok()) << "B uses 'a' before A produces it";
  ASSERT_TRUE(g->sort_topologically().is_ok());
  EXPECT_EQ(g->nodes()[0]->name, "A");
  EXPECT_EQ(g->nodes()[1]->name, "B");
  EXPECT_TRUE(verify(*g).is_ok());
}

TEST(Graph, CycleIsReportedWithTheNode) {
  auto g = std::make_unique<Graph>();
  Value* a = *g->add_value("a");
  Value* b = *g->add_value("b");
  g->outputs = {b};
  for (auto [name, in, out] : {std::tuple{"P", a, b}, std::tuple{"Q", b, a}}) {
    auto n = std::make_unique<Node>();
    n->name = name;
    n->op_type = "Relu";
    n->inputs = {in};
    n->outputs = {out};
    out->producer = g->add_node(std::move(n));
  }
  Status s = g->sort_topologically();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();
}

TEST(Graph, VerifierRejectsWritingAConstant) {
  auto g = chain(false);
  g->find_value("a")->constant = Tensor::zeros(DType::kFloat32, {1});
  Status s = verify(*g);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("overwrites a constant"), std::string::npos) << s.message();
}

TEST(Graph, PrinterShowsNodesAndTypes) {
  auto g = chain(false);
  g->inputs[0]->type = TensorType{DType::kFloat32, std::vector<Dim>{{1, ""}, {-1, "N"}}};
  std::string text = to_string(*g);
  EXPECT_NE(text.find("input  x: float32[1, N]"), std::string::npos) << text;
  EXPECT_NE(text.find("a = Relu[A](x)"), std::string::npos) << text;
}

TEST(Node, UnknownOpIsUnimplementedAndNamed) {
  Node n;
  n.name = "mystery";
  n.op_type = "NoSuchOp";
  n.opset = 17;
  Status s = n.parse_attributes();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("node 'mystery' (NoSuchOp)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace fulcrum::ir
