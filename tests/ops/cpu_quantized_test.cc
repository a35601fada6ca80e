// fulcrum.QConv / fulcrum.QMatMul on the CPU backend (oneDNN INT8) against their reference
// kernels. Float32 outputs agree within kCpuTolerance (relative to the output's largest
// magnitude); int8/uint8 outputs within 1 (a real value within rounding error of a half
// rounds either way).
#include "quantized_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;
using ops::Layout;

enum class Operand { kNone, kFloat, kInt8, kUInt8, kFloatPerChannel };

struct PostOpSpec {
  std::string op;
  std::string domain = "";
  ops::Attributes attrs = {};
  Operand operand = Operand::kNone;
  int64_t opset = 0;  // 0: 17 for ONNX ops, 1 for fulcrum ones
};

constexpr float kOperandScale = 0.03f;

bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// Post-ops in fused-node form, their operands appended to `inputs`, their scales to `scales`.
// A full-shape operand is `full_int8` (a QConv's: NHWC) when 8-bit, `full` when float.
void add_epilogue(const std::vector<PostOpSpec>& specs, const Shape& full_int8, const Shape& full,
                  const Shape& per_channel, std::vector<NodeInput>& inputs, std::vector<float>& scales,
                  ops::Attributes& attrs) {
  std::vector<ops::PostOp> post_ops;
  for (size_t i = 0; i < specs.size(); ++i) {
    const PostOpSpec& s = specs[i];
    ops::PostOp op;
    op.domain = s.domain;
    op.op_type = s.op;
    op.opset = s.opset != 0 ? s.opset : s.domain.empty() ? 17 : 1;
    op.attrs = s.attrs;
    if (s.operand != Operand::kNone) {
      op.input = static_cast<int64_t>(inputs.size());
      const uint32_t seed = 100 + static_cast<uint32_t>(i);
      switch (s.operand) {
        case Operand::kInt8: inputs.emplace_back(random_activation(full_int8, DType::kInt8, seed)); break;
        case Operand::kUInt8: inputs.emplace_back(random_activation(full_int8, DType::kUInt8, seed)); break;
        case Operand::kFloatPerChannel: inputs.emplace_back(random_tensor(per_channel, seed)); break;
        default: inputs.emplace_back(random_tensor(full, seed)); break;
      }
      scales.push_back(s.operand == Operand::kInt8 || s.operand == Operand::kUInt8 ? kOperandScale : 0.f);
    }
    post_ops.push_back(std::move(op));
  }
  ops::set_epilogue_attrs(post_ops, attrs);
}

// The output's integers agree within 1, and the test is not vacuous (not all one value).
void expect_integers_close(const Tensor& actual, const Tensor& expected) {
  const auto at = [](const Tensor& t, int64_t i) {
    return t.dtype() == DType::kInt8 ? int64_t{t.data<int8_t>()[i]} : int64_t{t.data<uint8_t>()[i]};
  };
  int64_t off = 0, max_diff = 0;
  bool varied = false;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const int64_t d = std::abs(at(actual, i) - at(expected, i));
    max_diff = std::max(max_diff, d);
    off += d != 0;
    varied = varied || at(expected, i) != at(expected, 0);
  }
  EXPECT_LE(max_diff, 1) << off << " of " << expected.numel() << " differ";
  EXPECT_LE(off, std::max<int64_t>(2, expected.numel() / 100)) << "more than 1% off by one";
  EXPECT_TRUE(varied) << "every output has the same value: the test checks nothing";
}

// Runs the node on {cpu, reference}, expects it on the CPU backend, and compares.
void expect_cpu_matches(const NodeSpec& spec) {
  std::vector<Tensor> feeds;
  auto graph = fulcrum_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(placed_on(*exec), "cpu");
  auto expected = run_reference(graph, feeds);
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  auto actual = exec->run(feeds);
  ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
  const Tensor& a = (*actual)[0];
  const Tensor& e = (*expected)[0];
  ASSERT_EQ(a.dtype(), e.dtype());
  ASSERT_EQ(a.shape(), e.shape());
  if (a.dtype() == DType::kFloat32)
    EXPECT_LE(max_relative_error(a, e), kCpuTolerance) << shape_to_string(e.shape());
  else
    expect_integers_close(a, e);
}

struct ConvCase {
  Shape x = {1, 8, 9, 9};  // logical NCHW
  int64_t oc = 16, kernel = 3, group = 1;
  Ints strides = {1, 1}, pads = {1, 1, 1, 1}, dilations = {1, 1};
  DType x_dtype = DType::kUInt8;  // X's tensor dtype
  DType quant = DType::kUInt8;    // the x_dtype attribute
  Layout src = Layout::kNhwc, dst = Layout::kNhwc;
  DType y_dtype = DType::kUInt8;
  bool bias = true, per_channel = true;
  std::vector<PostOpSpec> post_ops;
};

Shape physical(const Shape& s, Layout layout) { return layout == Layout::kNhwc ? Shape{s[0], s[2], s[3], s[1]} : s; }

Shape conv_output(const ConvCase& c) {
  Shape y = {c.x[0], c.oc, 0, 0};
  for (size_t d = 0; d < 2; ++d) {
    const int64_t span = c.dilations[d] * (c.kernel - 1) + 1;
    y[2 + d] = (c.x[2 + d] + c.pads[d] + c.pads[2 + d] - span) / c.strides[d] + 1;
  }
  return y;
}

NodeSpec conv_spec(const ConvCase& c, DType y_dtype, float y_scale) {
  const Shape y = conv_output(c);
  std::vector<NodeInput> inputs = {NodeInput(random_activation(physical(c.x, c.src), c.x_dtype, 1)),
                                   NodeInput(random_int8({c.oc, c.x[1] / c.group, c.kernel, c.kernel}, 2), true),
                                   NodeInput(c.bias ? random_tensor({c.oc}, 3) : Tensor(), true)};
  ops::Attributes a = {{"strides", c.strides},
                       {"pads", c.pads},
                       {"dilations", c.dilations},
                       {"group", c.group},
                       {"src_layout", std::string(ops::layout_name(c.src))},
                       {"dst_layout", std::string(ops::layout_name(c.dst))}};
  std::vector<float> operand_scales;
  add_epilogue(c.post_ops, physical(y, Layout::kNhwc), y, {1, c.oc, 1, 1}, inputs, operand_scales, a);
  const std::vector<float> w_scales = c.per_channel ? random_scales(c.oc, 4, 0.002f, 0.01f) : std::vector{0.005f};
  set_quant_attrs(a, true, 0.02f, c.quant, w_scales, y_dtype, y_scale, operand_scales);
  return NodeSpec("QConv", std::move(inputs), std::move(a));
}

// A y_scale that spreads the output over its integer range: from the float32 output's range.
float output_scale(const NodeSpec& float_spec, DType y_dtype) {
  std::vector<Tensor> feeds;
  auto out = run_reference(fulcrum_node_graph(float_spec, feeds), feeds);
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  const float amax = out.is_ok() ? max_abs((*out)[0]) : 1.f;
  return amax / (y_dtype == DType::kUInt8 ? 220.f : 110.f);
}

void expect_conv_matches(const ConvCase& c) {
  float y_scale = 1.f;
  if (c.y_dtype != DType::kFloat32) y_scale = output_scale(conv_spec(c, DType::kFloat32, 1.f), c.y_dtype);
  expect_cpu_matches(conv_spec(c, c.y_dtype, y_scale));
}

const PostOpSpec kRelu{"Relu"};

TEST(CpuQConv, ResNetBlockU8Nhwc) {
  ConvCase c;  // u8 NHWC in, 3x3, bias, ReLU, u8 NHWC out: the body of a ResNet block
  c.post_ops = {kRelu};
  expect_conv_matches(c);
  c.kernel = 1;  // 1x1, no padding
  c.pads = {0, 0, 0, 0};
  expect_conv_matches(c);
}

TEST(CpuQConv, InputAndOutputDtypes) {
  for (DType x : {DType::kFloat32, DType::kUInt8, DType::kInt8})
    for (DType q : {DType::kUInt8, DType::kInt8}) {
      if (x != DType::kFloat32 && x != q) continue;
      for (DType y : {DType::kFloat32, DType::kInt8, DType::kUInt8}) {
        SCOPED_TRACE(std::string(dtype_name(x)) + " as " + dtype_name(q) + " -> " + dtype_name(y));
        ConvCase c;
        c.x_dtype = x;
        c.quant = q;
        c.src = x == DType::kFloat32 ? Layout::kNchw : Layout::kNhwc;
        c.dst = y == DType::kFloat32 ? Layout::kNchw : Layout::kNhwc;
        c.y_dtype = y;
        if (y == DType::kUInt8) c.post_ops = {kRelu};
        expect_conv_matches(c);
      }
    }
}

TEST(CpuQConv, LayoutsEitherWay) {
  for (Layout src : {Layout::kNchw, Layout::kNhwc})
    for (Layout dst : {Layout::kNchw, Layout::kNhwc})
      for (DType y : {DType::kFloat32, DType::kInt8}) {
        SCOPED_TRACE(std::string(ops::layout_name(src)) + " -> " + ops::layout_name(dst) + " " + dtype_name(y));
        ConvCase c;
        c.x_dtype = c.quant = DType::kInt8;
        c.src = src;
        c.dst = dst;
        c.y_dtype = y;
        expect_conv_matches(c);
      }
}

TEST(CpuQConv, SingleWeightScaleNoBias) {
  ConvCase c;
  c.per_channel = false;
  c.bias = false;
  c.y_dtype = DType::kFloat32;
  expect_conv_matches(c);
  c.y_dtype = DType::kInt8;
  expect_conv_matches(c);
}

TEST(CpuQConv, Geometry) {
  ConvCase c;  // stride 2, asymmetric padding, dilation 2, batch 3, odd channels (3 in, 5 out)
  c.x = {3, 3, 11, 10};
  c.oc = 5;
  c.strides = {2, 2};
  c.pads = {1, 2, 0, 1};
  c.dilations = {2, 2};
  c.x_dtype = DType::kFloat32;
  c.src = c.dst = Layout::kNchw;
  for (DType y : {DType::kFloat32, DType::kInt8}) {
    c.y_dtype = y;
    expect_conv_matches(c);
  }
}

TEST(CpuQConv, SymbolicBatchPacksForOneRunsThree) {
  // The weights are packed at build time for batch 1, then the kernel meets batch 3 (with an
  // int8 residual of the output's shape).
  ConvCase c;
  c.x = {3, 8, 9, 9};
  c.post_ops = {{"Add", "", {}, Operand::kInt8}, kRelu};
  NodeSpec spec = conv_spec(c, DType::kFloat32, 1.f);
  spec.symbolic_batch = true;
  const float y_scale = output_scale(spec, DType::kUInt8);
  spec = conv_spec(c, DType::kUInt8, y_scale);
  spec.symbolic_batch = true;
  expect_cpu_matches(spec);
}

TEST(CpuQConv, DepthwiseAndGrouped) {
  for (int64_t group : {int64_t{16}, int64_t{4}}) {
    SCOPED_TRACE(group);
    ConvCase c;  // MobileNet's depthwise 3x3 (u8 NHWC, ReLU) and a grouped conv
    c.x = {2, 16, 10, 10};
    c.oc = 16;
    c.group = group;
    c.strides = {2, 2};
    c.post_ops = {kRelu};
    expect_conv_matches(c);
  }
}

TEST(CpuQConv, ResidualFloat) {
  ConvCase c;  // float32 residual, then ReLU, float32 NCHW output
  c.dst = Layout::kNchw;
  c.y_dtype = DType::kFloat32;
  c.post_ops = {{"Add", "", {}, Operand::kFloat}, kRelu};
  expect_conv_matches(c);
  c.y_dtype = DType::kInt8;  // float residual into an int8 output (a binary post-op)
  c.dst = Layout::kNhwc;
  c.post_ops = {{"Add", "", {}, Operand::kFloat}};
  expect_conv_matches(c);
}

TEST(CpuQConv, ResidualInt8WithItsOwnScale) {
  // ResNet's block tail: the shortcut arrives int8 (or uint8) with its own scale, Add, ReLU.
  for (Operand shortcut : {Operand::kInt8, Operand::kUInt8})
    for (DType y : {DType::kUInt8, DType::kInt8, DType::kFloat32}) {
      SCOPED_TRACE(dtype_name(y));
      ConvCase c;
      c.kernel = 1;
      c.pads = {0, 0, 0, 0};
      c.y_dtype = y;
      c.dst = y == DType::kFloat32 ? Layout::kNchw : Layout::kNhwc;
      c.post_ops = {{"Add", "", {}, shortcut}};
      if (y == DType::kUInt8) c.post_ops.push_back(kRelu);
      expect_conv_matches(c);
    }
}

TEST(CpuQConv, RealDomainEpilogues) {
  // Non-linear post-ops see real values: any other domain changes their result.
  const std::vector<std::vector<PostOpSpec>> epilogues = {
      {{"Clip", "", {{"min", -0.5f}, {"max", 0.75f}}, Operand::kNone, 6}},
      {{"Gelu", "fulcrum"}},
      {{"Sigmoid"}},
      {{"Silu", "fulcrum"}},
      {{"Add", "", {}, Operand::kFloatPerChannel}, {"Tanh"}},
      {{"Add", "", {}, Operand::kInt8}, {"Gelu", "fulcrum"}},
  };
  for (const auto& e : epilogues)
    for (DType y : {DType::kInt8, DType::kFloat32}) {
      SCOPED_TRACE(e.back().op + std::string(" -> ") + dtype_name(y));
      ConvCase c;
      c.y_dtype = y;
      c.post_ops = e;
      expect_conv_matches(c);
    }
}

struct MatMulCase {
  Shape a = {7, 32};
  int64_t n = 24;
  DType a_dtype = DType::kFloat32, quant = DType::kInt8, y_dtype = DType::kFloat32;
  bool bias = true, per_column = true;
  std::vector<PostOpSpec> post_ops;
};

NodeSpec matmul_spec(const MatMulCase& c, DType y_dtype, float y_scale) {
  const int64_t k = c.a.back();
  Shape y = c.a;
  y.back() = c.n;
  std::vector<NodeInput> inputs = {NodeInput(random_activation(c.a, c.a_dtype, 11)),
                                   NodeInput(random_int8({k, c.n}, 12), true),
                                   NodeInput(c.bias ? random_tensor({c.n}, 13) : Tensor(), true)};
  ops::Attributes a;
  std::vector<float> operand_scales;
  add_epilogue(c.post_ops, y, y, {c.n}, inputs, operand_scales, a);
  const std::vector<float> w_scales = c.per_column ? random_scales(c.n, 14, 0.002f, 0.01f) : std::vector{0.005f};
  set_quant_attrs(a, false, 0.02f, c.quant, w_scales, y_dtype, y_scale, operand_scales);
  return NodeSpec("QMatMul", std::move(inputs), std::move(a));
}

void expect_matmul_matches(const MatMulCase& c) {
  float y_scale = 1.f;
  if (c.y_dtype != DType::kFloat32) y_scale = output_scale(matmul_spec(c, DType::kFloat32, 1.f), c.y_dtype);
  expect_cpu_matches(matmul_spec(c, c.y_dtype, y_scale));
}

TEST(CpuQMatMul, TwoDimensionalFloatA) {
  MatMulCase c;
  for (DType q : {DType::kInt8, DType::kUInt8})
    for (DType y : {DType::kFloat32, DType::kInt8}) {
      c.quant = q;
      c.y_dtype = y;
      expect_matmul_matches(c);
    }
}

TEST(CpuQMatMul, ThreeDimensionalQuantizedAGelu) {
  // BERT's feed-forward in: [batch, seq, hidden] x [hidden, 4 hidden], bias, GELU.
  MatMulCase c;
  c.a = {2, 9, 48};
  c.n = 80;
  c.post_ops = {{"Gelu", "fulcrum"}};
  for (DType a : {DType::kUInt8, DType::kInt8})
    for (DType y : {DType::kInt8, DType::kFloat32}) {
      SCOPED_TRACE(std::string(dtype_name(a)) + " -> " + dtype_name(y));
      c.a_dtype = c.quant = a;
      c.y_dtype = y;
      expect_matmul_matches(c);
    }
}

TEST(CpuQMatMul, SymbolicBatch) {
  MatMulCase c;
  c.a = {4, 6, 32};
  c.post_ops = {{"Add", "", {}, Operand::kFloat}};
  NodeSpec spec = matmul_spec(c, DType::kFloat32, 1.f);
  spec.symbolic_batch = true;
  expect_cpu_matches(spec);
}

TEST(CpuQMatMul, ResidualsAndSingleScale) {
  MatMulCase c;
  c.a = {3, 5, 40};
  c.per_column = false;
  c.bias = false;
  c.post_ops = {{"Add", "", {}, Operand::kFloat}, {"Add", "", {}, Operand::kFloatPerChannel}, kRelu};
  for (DType y : {DType::kFloat32, DType::kUInt8}) {
    c.y_dtype = y;
    expect_matmul_matches(c);
  }
  c.post_ops = {{"Add", "", {}, Operand::kInt8}};
  for (DType y : {DType::kFloat32, DType::kInt8}) {
    c.y_dtype = y;
    expect_matmul_matches(c);
  }
}

}  // namespace
}  // namespace fulcrum::testing

namespace fulcrum::testing {
namespace {

TEST(CpuNhwcPool, MaxPoolOnInt8NhwcMatchesReference) {
  // ResNet's stem pool between INT8 convolutions: 3x3 stride 2 pad 1, on [N, H, W, C].
  const ops::Attributes pool = {{"pool", std::string("MaxPool")},
                                {"pool_opset", int64_t{12}},
                                {"kernel_shape", std::vector<int64_t>{3, 3}},
                                {"strides", std::vector<int64_t>{2, 2}},
                                {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  uint32_t seed = 500;
  for (DType dtype : {DType::kUInt8, DType::kInt8, DType::kFloat32}) {
    SCOPED_TRACE(dtype_name(dtype));
    expect_cpu_matches({"NhwcPool", {{random_activation({2, 13, 11, 24}, dtype, seed++)}}, pool});
  }
}

}  // namespace
}  // namespace fulcrum::testing
