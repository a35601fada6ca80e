// fulcrum.FusedConv / FusedMatMul on the CPU backend (oneDNN post-ops) against the
// reference backend running the unfused ONNX graph (tolerance: cpu_test_util.h).
#include "cpu_test_util.h"
#include "ir/graph_edit.h"
#include "ops/fused.h"
#include "passes/cpu_blocked_layout.h"
#include "passes/cpu_fuse_depthwise.h"
#include "passes/fuse_epilogue.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

// A graph built node by node, every value typed (as ONNX shape inference types them).
class Net {
 public:
  Net() : graph_(std::make_shared<ir::Graph>()) { graph_->opsets[""] = 17; }
  ir::Value* input(const std::string& name, const Shape& shape, uint32_t seed) {
    ir::Value* v = typed(name, shape);
    graph_->inputs.push_back(v);
    feeds_.push_back(random_tensor(shape, seed));
    return v;
  }
  ir::Value* constant(const std::string& name, Tensor t) {
    ir::Value* v = typed(name, t.shape());
    v->constant = std::move(t);
    return v;
  }
  ir::Value* node(const std::string& op, const std::vector<ir::Value*>& inputs, const Shape& out,
                  const ops::Attributes& attrs = {}) {
    auto n = std::make_unique<ir::Node>();
    n->name = op + std::to_string(graph_->nodes().size());
    n->op_type = op;
    n->opset = 17;
    n->inputs = inputs;
    n->attrs = attrs;
    n->outputs = {typed(n->name + "_out", out)};
    ir::Node* added = graph_->add_node(std::move(n));
    added->outputs[0]->producer = added;
    EXPECT_TRUE(added->parse_attributes().is_ok());
    return added->outputs[0];
  }
  void output(ir::Value* v) { graph_->outputs.push_back(v); }

  // Fuses, expects `fused_nodes` nodes all placed on the CPU backend, and compares with the
  // reference running the graph as built.
  // With `block` > 0, the blocked layout pass runs after the fusion (and then, with
  // `depthwise`, the pointwise + depthwise fusion).
  void expect_fused_cpu_matches_reference(size_t fused_nodes, int64_t block = 0, bool depthwise = false) {
    std::shared_ptr<ir::Graph> fused = ir::clone(*graph_);
    passes::PassContext ctx;
    auto changed = passes::FuseEpilogue().run(*fused, ctx);
    ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
    if (block > 0) {
      auto laid_out = passes::CpuBlockedLayout(block).run(*fused, ctx);
      ASSERT_TRUE(laid_out.is_ok()) << laid_out.status().to_string();
    }
    if (depthwise) {
      auto changed_dw = passes::CpuFuseDepthwise().run(*fused, ctx);
      ASSERT_TRUE(changed_dw.is_ok()) << changed_dw.status().to_string();
      ASSERT_TRUE(*changed_dw) << ir::to_string(*fused);
    }
    ASSERT_EQ(fused->nodes().size(), fused_nodes) << ir::to_string(*fused);
    auto exec = cpu_executor(fused);
    ASSERT_NE(exec, nullptr);
    for (const auto& [node, backend] : exec->placement()) EXPECT_EQ(backend, "cpu") << node;
    expect_matches_reference(*exec, graph_, feeds_);
  }

 private:
  ir::Value* typed(const std::string& name, const Shape& shape) {
    ir::Value* v = *graph_->add_value(name);
    v->type.dtype = DType::kFloat32;
    std::vector<ir::Dim> dims;
    for (int64_t d : shape) dims.push_back(ir::Dim{d, ""});
    v->type.dims = dims;
    return v;
  }
  std::shared_ptr<ir::Graph> graph_;
  std::vector<Tensor> feeds_;
};

Tensor scalar(float v) { return Tensor::from_vector<float>(DType::kFloat32, {}, {v}); }

TEST(CpuFused, ConvResidualBlock) {
  // ResNet's tail: conv + bias, Add(shortcut), Relu; the shortcut is a graph input.
  for (bool shortcut_first : {false, true}) {
    Net net;
    ir::Value* x = net.input("x", {2, 16, 9, 9}, 1);
    ir::Value* skip = net.input("skip", {2, 32, 9, 9}, 2);
    ir::Value* c = net.node(
        "Conv", {x, net.constant("w", random_tensor({32, 16, 3, 3}, 3)), net.constant("b", random_tensor({32}, 4))},
        {2, 32, 9, 9}, {{"pads", Ints{1, 1, 1, 1}}});
    ir::Value* s = net.node("Add", shortcut_first ? std::vector{skip, c} : std::vector{c, skip}, {2, 32, 9, 9});
    net.output(net.node("Relu", {s}, {2, 32, 9, 9}));
    net.expect_fused_cpu_matches_reference(1);
  }
}

TEST(CpuFused, ConvActivations) {
  struct Act {
    const char* op;
    ops::Attributes attrs;
  };
  const std::vector<Act> acts = {{"Relu", {}},
                                 {"LeakyRelu", {{"alpha", 0.1f}}},
                                 {"Sigmoid", {}},
                                 {"Tanh", {}},
                                 {"HardSwish", {}},
                                 {"HardSigmoid", {{"alpha", 0.3f}, {"beta", 0.6f}}},
                                 {"Elu", {{"alpha", 0.7f}}},
                                 {"Softplus", {}}};
  for (const Act& act : acts) {
    SCOPED_TRACE(act.op);
    Net net;
    ir::Value* x = net.input("x", {1, 8, 7, 7}, 5);
    ir::Value* c = net.node("Conv", {x, net.constant("w", random_tensor({8, 1, 3, 3}, 6))}, {1, 8, 7, 7},
                            {{"group", int64_t{8}}, {"pads", Ints{1, 1, 1, 1}}});
    net.output(net.node(act.op, {c}, {1, 8, 7, 7}, act.attrs));
    net.expect_fused_cpu_matches_reference(1);
  }
}

TEST(CpuFused, ConvSiluAndRelu6) {
  Net net;
  ir::Value* x = net.input("x", {1, 3, 16, 16}, 7);
  ir::Value* c = net.node("Conv", {x, net.constant("w", random_tensor({16, 3, 3, 3}, 8))}, {1, 16, 8, 8},
                          {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  ir::Value* sig = net.node("Sigmoid", {c}, {1, 16, 8, 8});
  ir::Value* silu = net.node("Mul", {c, sig}, {1, 16, 8, 8});
  ir::Value* c2 = net.node("Conv", {silu, net.constant("w2", random_tensor({24, 16, 1, 1}, 9))}, {1, 24, 8, 8});
  net.output(net.node("Clip", {c2, net.constant("lo", scalar(0.0f)), net.constant("hi", scalar(0.1f))}, {1, 24, 8, 8}));
  net.expect_fused_cpu_matches_reference(2);
}

TEST(CpuFused, ConvPerChannelAdd) {
  Net net;
  ir::Value* x = net.input("x", {1, 4, 6, 6}, 10);
  ir::Value* c = net.node("Conv", {x, net.constant("w", random_tensor({8, 4, 1, 1}, 11))}, {1, 8, 6, 6});
  net.output(net.node("Add", {c, net.constant("bias", random_tensor({8, 1, 1}, 12))}, {1, 8, 6, 6}));
  net.expect_fused_cpu_matches_reference(1);
}

TEST(CpuFused, MatMulBiasResidualAndGemm) {
  Net net;
  ir::Value* a = net.input("a", {2, 5, 12}, 13);
  ir::Value* m = net.node("MatMul", {a, net.constant("w", random_tensor({12, 12}, 14))}, {2, 5, 12});
  ir::Value* biased = net.node("Add", {m, net.constant("bias", random_tensor({12}, 15))}, {2, 5, 12});
  ir::Value* res = net.node("Add", {biased, a}, {2, 5, 12});
  net.output(net.node("Tanh", {res}, {2, 5, 12}));
  ir::Value* a2 = net.input("a2", {3, 12}, 16);
  ir::Value* g =
      net.node("Gemm", {a2, net.constant("wg", random_tensor({6, 12}, 17)), net.constant("c", random_tensor({6}, 18))},
               {3, 6}, {{"transB", int64_t{1}}, {"alpha", 0.5f}});
  net.output(net.node("Relu", {g}, {3, 6}));
  // A run-time B: the plain matmul kernel with post-ops.
  ir::Value* b = net.input("b", {2, 12, 4}, 19);
  ir::Value* m2 = net.node("MatMul", {a, b}, {2, 5, 4});
  net.output(net.node("Sigmoid", {m2}, {2, 5, 4}));
  net.expect_fused_cpu_matches_reference(3);
}

// A residual stage in blocked layouts: stem (C = 3) reading NCHW, MaxPool, a depthwise and a
// 1x1 conv with the pool output as residual, a conv back to 12 channels (NCHW output), and
// a GlobalAveragePool; every node on the CPU backend.
TEST(CpuFused, BlockedLayoutChain) {
  for (int64_t block : {8, 16}) {
    SCOPED_TRACE(block);
    Net net;
    ir::Value* x = net.input("x", {2, 3, 17, 17}, 20);
    ir::Value* c0 = net.node(
        "Conv", {x, net.constant("w0", random_tensor({32, 3, 3, 3}, 21)), net.constant("b0", random_tensor({32}, 22))},
        {2, 32, 9, 9}, {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
    ir::Value* r0 = net.node("Relu", {c0}, {2, 32, 9, 9});
    ir::Value* p0 = net.node("MaxPool", {r0}, {2, 32, 5, 5},
                             {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
    ir::Value* dw = net.node("Conv", {p0, net.constant("w1", random_tensor({32, 1, 3, 3}, 23))}, {2, 32, 5, 5},
                             {{"group", int64_t{32}}, {"pads", Ints{1, 1, 1, 1}}});
    ir::Value* c2 = net.node("Conv", {dw, net.constant("w2", random_tensor({32, 32, 1, 1}, 24))}, {2, 32, 5, 5});
    ir::Value* s2 = net.node("Add", {c2, p0}, {2, 32, 5, 5});
    ir::Value* r2 = net.node("Relu", {s2}, {2, 32, 5, 5});
    net.output(net.node("Conv", {r2, net.constant("w3", random_tensor({12, 32, 1, 1}, 25))}, {2, 12, 5, 5}));
    net.output(net.node("GlobalAveragePool", {r2}, {2, 32, 1, 1}));
    net.expect_fused_cpu_matches_reference(6, block);
  }
}

TEST(CpuFused, BlockedReordersAtTheEdges) {
  for (int64_t block : {8, 16}) {
    SCOPED_TRACE(block);
    Net net;
    ir::Value* x = net.input("x", {1, 16, 6, 6}, 26);
    ir::Value* skip = net.input("skip", {1, 16, 6, 6}, 27);
    ir::Value* c = net.node("Conv", {x, net.constant("w", random_tensor({16, 16, 3, 3}, 28))}, {1, 16, 6, 6},
                            {{"pads", Ints{1, 1, 1, 1}}});
    ir::Value* s = net.node("Add", {c, skip}, {1, 16, 6, 6});  // a plain residual: reordered to blocked
    ir::Value* c2 = net.node("Conv", {s, net.constant("w2", random_tensor({16, 16, 1, 1}, 29))}, {1, 16, 6, 6});
    net.output(net.node("Sigmoid",
                        {
                            c2,
                        },
                        {1, 16, 6, 6}));                  // fused
    net.output(net.node("Softmax", {s}, {1, 16, 6, 6}));  // reads s through a reorder
    net.expect_fused_cpu_matches_reference(5, block);
  }
}

// MobileNetV2's 24-channel stage where 16 channels per block are preferred: the 24-channel
// tensors only convolutions read (a 1x1 and a depthwise conv, a residual Add) are padded
// to two blocks of 16 (oneDNN writes zeros into the padding, whatever the epilogue).
TEST(CpuFused, PaddedBlocks) {
  Net net;
  ir::Value* x = net.input("x", {1, 32, 7, 7}, 30);
  ir::Value* a = net.node("Conv", {x, net.constant("w0", random_tensor({24, 32, 1, 1}, 31))}, {1, 24, 7, 7});
  ir::Value* b = net.node("Conv", {a, net.constant("w1", random_tensor({48, 24, 1, 1}, 32))}, {1, 48, 7, 7});
  ir::Value* c = net.node(
      "Conv", {b, net.constant("w2", random_tensor({24, 48, 1, 1}, 33)), net.constant("b2", random_tensor({24}, 35))},
      {1, 24, 7, 7});
  ir::Value* s = net.node("Add", {c, a}, {1, 24, 7, 7});
  ir::Value* e = net.node("Sigmoid", {s}, {1, 24, 7, 7});
  ir::Value* d = net.node("Conv", {e, net.constant("w3", random_tensor({24, 1, 3, 3}, 36))}, {1, 24, 7, 7},
                          {{"group", int64_t{24}}, {"pads", Ints{1, 1, 1, 1}}});
  net.output(net.node("Conv", {d, net.constant("w4", random_tensor({32, 24, 3, 3}, 34))}, {1, 32, 7, 7},
                      {{"pads", Ints{1, 1, 1, 1}}}));
  net.expect_fused_cpu_matches_reference(5, 16);
}

// MobileNetV2's expansion: a 1x1 conv to 144 channels (from 24, padded) and a 3x3 depthwise
// conv, each with bias and ReLU6, run as one primitive; stride 1 and 2, with and without
// the depthwise bias.
TEST(CpuFused, PointwiseThenDepthwise) {
  for (int64_t stride : {1, 2})
    for (bool dw_bias : {true, false}) {
      SCOPED_TRACE(stride * 10 + dw_bias);
      Net net;
      ir::Value* x = net.input("x", {1, 24, 56, 56}, 40);
      ir::Value* stem = net.node("Conv", {x, net.constant("w0", random_tensor({24, 24, 1, 1}, 41))}, {1, 24, 56, 56});
      ir::Value* pw = net.node(
          "Conv",
          {stem, net.constant("w1", random_tensor({144, 24, 1, 1}, 42)), net.constant("b1", random_tensor({144}, 43))},
          {1, 144, 56, 56});
      pw = net.node("Clip", {pw, net.constant("lo", scalar(0)), net.constant("hi", scalar(6))}, {1, 144, 56, 56});
      const int64_t out = 56 / stride;
      std::vector<ir::Value*> dw_inputs = {pw, net.constant("w2", random_tensor({144, 1, 3, 3}, 44))};
      if (dw_bias) dw_inputs.push_back(net.constant("b2", random_tensor({144}, 45)));
      ir::Value* dw =
          net.node("Conv", dw_inputs, {1, 144, out, out},
                   {{"group", int64_t{144}}, {"strides", Ints{stride, stride}}, {"pads", Ints{1, 1, 1, 1}}});
      dw = net.node("Relu", {dw}, {1, 144, out, out});
      net.output(net.node("Conv", {dw, net.constant("w3", random_tensor({24, 144, 1, 1}, 46))}, {1, 24, out, out}));
      net.expect_fused_cpu_matches_reference(3, 16, true);
    }
}

// A 24-channel tensor that a non-conv also reads takes 8 per block instead, and convs
// between the two blockings still run on the CPU.
TEST(CpuFused, MixedBlockSizes) {
  Net net;
  ir::Value* x = net.input("x", {1, 32, 7, 7}, 30);
  ir::Value* a = net.node("Conv", {x, net.constant("w0", random_tensor({24, 32, 1, 1}, 31))}, {1, 24, 7, 7});
  ir::Value* b = net.node("Conv", {a, net.constant("w1", random_tensor({48, 24, 1, 1}, 32))}, {1, 48, 7, 7});
  net.output(net.node("Sigmoid", {a}, {1, 24, 7, 7}));
  net.output(net.node("Conv", {b, net.constant("w2", random_tensor({32, 48, 3, 3}, 34))}, {1, 32, 7, 7},
                      {{"pads", Ints{1, 1, 1, 1}}}));
  net.expect_fused_cpu_matches_reference(5, 16);
}

}  // namespace
}  // namespace fulcrum::testing
