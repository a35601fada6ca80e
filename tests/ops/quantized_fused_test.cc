// fulcrum.QConv / fulcrum.QMatMul: attribute parsing and validation, and the reference kernels
// on tiny cases computed by hand.
#include <limits>

#include "op_test_util.h"
#include "quantized_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// X [1, 1, 2, 2] = {1, 2, 3, 4} (uint8, scale 0.5); W [2, 1, 1, 1] = {2, -3} with scales
// {0.25, 0.1}; bias {1, 0}. Real outputs: channel 0 = q * 0.25 + 1 = {1.25, 1.5, 1.75, 2},
// channel 1 = q * -0.15 = {-0.15, -0.3, -0.45, -0.6}.
NodeSpec tiny_conv(DType y_dtype, float y_scale, const std::string& src = "NCHW", const std::string& dst = "NCHW",
                   bool relu = false) {
  Tensor x = src == "NCHW" ? Tensor::from_vector<uint8_t>(DType::kUInt8, {1, 1, 2, 2}, {1, 2, 3, 4})
                           : Tensor::from_vector<uint8_t>(DType::kUInt8, {1, 2, 2, 1}, {1, 2, 3, 4});
  ops::Attributes a = {{"src_layout", src}, {"dst_layout", dst}};
  ops::PostOp r;
  r.op_type = "Relu";
  r.opset = 17;
  ops::set_epilogue_attrs(relu ? std::vector{r} : std::vector<ops::PostOp>{}, a);
  set_quant_attrs(a, true, 0.5f, DType::kUInt8, {0.25f, 0.1f}, y_dtype, y_scale, {});
  return NodeSpec("QConv",
                  {NodeInput(x), NodeInput(Tensor::from_vector<int8_t>(DType::kInt8, {2, 1, 1, 1}, {2, -3}), true),
                   NodeInput(Tensor::from_vector<float>(DType::kFloat32, {2}, {1.f, 0.f}), true)},
                  a);
}

Result<Tensor> run_ref(const NodeSpec& spec) {
  std::vector<Tensor> feeds;
  FULCRUM_ASSIGN_OR_RETURN(auto outputs, run_reference(fulcrum_node_graph(spec, feeds), feeds));
  return outputs[0];
}

TEST(QConvReference, RealOutput) {
  auto y = run_ref(tiny_conv(DType::kFloat32, 0.f));
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  ASSERT_EQ(y->shape(), (Shape{1, 2, 2, 2}));
  const std::vector<float> expected = {1.25f, 1.5f, 1.75f, 2.f, -0.15f, -0.3f, -0.45f, -0.6f};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(values<float>(*y)[i], expected[i], 1e-6f) << i;
}

TEST(QConvReference, QuantizesHalfToEvenAndSaturates) {
  // y_scale 0.5: channel 0 is {2.5, 3, 3.5, 4} -> {2, 3, 4, 4}; channel 1 {-0.3 .. -1.2} -> {0, -1, -1, -1}.
  auto y = run_ref(tiny_conv(DType::kInt8, 0.5f));
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  EXPECT_EQ(values<int8_t>(*y), (std::vector<int8_t>{2, 3, 4, 4, 0, -1, -1, -1}));
  // uint8 clamps the negative channel to 0; y_scale 0.01 saturates channel 0 at 255 (125..200).
  y = run_ref(tiny_conv(DType::kUInt8, 0.01f));
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  EXPECT_EQ(values<uint8_t>(*y), (std::vector<uint8_t>{125, 150, 175, 200, 0, 0, 0, 0}));
  y = run_ref(tiny_conv(DType::kUInt8, 0.005f));
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  EXPECT_EQ(values<uint8_t>(*y), (std::vector<uint8_t>{250, 255, 255, 255, 0, 0, 0, 0}));
}

TEST(QConvReference, ReluEpilogueAndNhwc) {
  auto y = run_ref(tiny_conv(DType::kInt8, 0.25f, "NHWC", "NHWC", true));
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  ASSERT_EQ(y->shape(), (Shape{1, 2, 2, 2}));  // [N, H, W, C]: channels interleave
  EXPECT_EQ(values<int8_t>(*y), (std::vector<int8_t>{5, 0, 6, 0, 7, 0, 8, 0}));
}

TEST(QConvReference, QuantizesAFloatInput) {
  // x_scale 0.5, uint8: {0.26, -1, 200, 1.25} -> {1 (0.52), 0 (saturated), 255 (saturated), 2 (2.5 to even)}.
  NodeSpec spec = tiny_conv(DType::kFloat32, 0.f);
  spec.inputs[0] = NodeInput(Tensor::from_vector<float>(DType::kFloat32, {1, 1, 2, 2}, {0.26f, -1.f, 200.f, 1.25f}));
  auto y = run_ref(spec);
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  const std::vector<float> expected = {1.25f, 1.f, 1.f + 255 * 0.25f, 1.5f, -0.15f, 0.f, -0.15f * 255, -0.3f};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(values<float>(*y)[i], expected[i], 1e-5f) << i;
}

TEST(QConvReference, Int8ResidualWithItsScale) {
  // y = conv + 0.5 * r, r int8 {-4, 0, 2, 4} on channel 0 and {10, 10, 10, 10} on channel 1,
  // given NHWC (an int8 operand is another QConv's NHWC output).
  NodeSpec spec = tiny_conv(DType::kFloat32, 0.f);
  ops::PostOp add;
  add.op_type = "Add";
  add.opset = 17;
  add.input = 3;
  ops::set_epilogue_attrs({add}, spec.attrs);
  spec.attrs[ops::kOperandScales] = std::vector<float>{0.5f};
  spec.inputs.emplace_back(Tensor::from_vector<int8_t>(DType::kInt8, {1, 2, 2, 2}, {-4, 10, 0, 10, 2, 10, 4, 10}));
  auto y = run_ref(spec);
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  const std::vector<float> expected = {-0.75f, 1.5f, 2.75f, 4.f, 4.85f, 4.7f, 4.55f, 4.4f};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(values<float>(*y)[i], expected[i], 1e-5f) << i;
}

TEST(QMatMulReference, HandComputed) {
  // A [1, 2] int8 {3, -2} (scale 0.1) x B [2, 2] {{1, 2}, {3, 4}} (scales {1, 0.5}) + C {0.5, 0}:
  // acc = {3 - 6, 6 - 8} = {-3, -2}; real = {-0.3 + 0.5, -0.1} = {0.2, -0.1}.
  ops::Attributes a;
  ops::set_epilogue_attrs({}, a);
  set_quant_attrs(a, false, 0.1f, DType::kInt8, {1.f, 0.5f}, DType::kFloat32, 0.f, {});
  NodeSpec spec("QMatMul",
                {NodeInput(Tensor::from_vector<int8_t>(DType::kInt8, {1, 2}, {3, -2})),
                 NodeInput(Tensor::from_vector<int8_t>(DType::kInt8, {2, 2}, {1, 2, 3, 4}), true),
                 NodeInput(Tensor::from_vector<float>(DType::kFloat32, {2}, {0.5f, 0.f}), true)},
                a);
  auto y = run_ref(spec);
  ASSERT_TRUE(y.is_ok()) << y.status().to_string();
  EXPECT_NEAR(values<float>(*y)[0], 0.2f, 1e-6f);
  EXPECT_NEAR(values<float>(*y)[1], -0.1f, 1e-6f);
}

TEST(QuantizedAttrs, ParseAndDtypeNames) {
  std::vector<Tensor> feeds;
  auto graph = fulcrum_node_graph(tiny_conv(DType::kInt8, 0.25f, "NHWC", "NCHW"), feeds);
  const auto& q = graph->nodes()[0]->attrs_as<ops::QConvAttrs>();
  EXPECT_EQ(q.src_layout, ops::Layout::kNhwc);
  EXPECT_EQ(q.dst_layout, ops::Layout::kNchw);
  EXPECT_EQ(q.quant.in_scale, 0.5f);
  EXPECT_EQ(q.quant.in_dtype, DType::kUInt8);
  EXPECT_EQ(q.quant.w_scales, (std::vector<float>{0.25f, 0.1f}));
  EXPECT_EQ(q.quant.out_dtype, DType::kInt8);
  EXPECT_EQ(q.quant.out_scale, 0.25f);
  for (DType d : {DType::kInt8, DType::kUInt8, DType::kFloat32}) {
    auto back = ops::parse_quant_dtype(ops::quant_dtype_name(d), true);
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(*back, d);
  }
  EXPECT_FALSE(ops::parse_quant_dtype("float32", false).is_ok());
}

// Parsing `spec` fails with a message naming `needle`.
void expect_parse_error(const NodeSpec& spec, const std::string& needle) {
  std::vector<Tensor> feeds;
  Status parsed;
  fulcrum_node_graph(spec, feeds, &parsed);
  ASSERT_FALSE(parsed.is_ok()) << "expected an error naming " << needle;
  EXPECT_EQ(parsed.code(), StatusCode::kInvalidArgument) << parsed.to_string();
  EXPECT_NE(parsed.message().find(needle), std::string::npos) << parsed.message();
}

TEST(QuantizedAttrs, MalformedNodesErrorClearly) {
  const NodeSpec good = tiny_conv(DType::kInt8, 0.25f);
  auto with = [&](const std::string& key, ops::AttrValue v) {
    NodeSpec s = good;
    s.attrs[key] = std::move(v);
    return s;
  };
  expect_parse_error(with(ops::kXDtype, std::string("int4")), "x_dtype");
  expect_parse_error(with(ops::kXDtype, std::string("float32")), "x_dtype");
  expect_parse_error(with(ops::kYDtype, std::string("int16")), "y_dtype");
  expect_parse_error(with(ops::kXScale, 0.f), "x_scale");
  expect_parse_error(with(ops::kXScale, std::numeric_limits<float>::quiet_NaN()), "x_scale");
  expect_parse_error(with(ops::kYScale, -1.f), "y_scale");
  expect_parse_error(with(ops::kXScale, int64_t{1}), "x_scale");
  expect_parse_error(with(ops::kWScales, std::vector<float>{0.1f, 0.f}), "w_scales");
  expect_parse_error(with(ops::kWScales, std::vector<float>{}), "w_scales");
  expect_parse_error(with(ops::kOperandScales, std::vector<float>{0.1f}), "operand_scales");
  expect_parse_error(with("src_layout", std::string("NCHW16c")), "src_layout");
  NodeSpec no_scale = good;
  no_scale.attrs.erase(ops::kXScale);
  expect_parse_error(no_scale, "x_scale");
}

TEST(QuantizedAttrs, WrongWeightScaleCountFailsAtRun) {
  // Three scales for two output channels: the CPU backend declines, the reference names it.
  NodeSpec spec = tiny_conv(DType::kInt8, 0.25f);
  spec.attrs[ops::kWScales] = std::vector<float>{0.1f, 0.2f, 0.3f};
  std::vector<Tensor> feeds;
  auto graph = fulcrum_node_graph(spec, feeds);
  auto exec = cpu_executor(graph);
  ASSERT_NE(exec, nullptr);
  auto out = exec->run(feeds);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("w_scales"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("q0"), std::string::npos) << out.status().message();
}

TEST(QuantizedAttrs, InputDtypeMustMatch) {
  NodeSpec spec = tiny_conv(DType::kInt8, 0.25f);
  spec.attrs[ops::kXDtype] = std::string("int8");  // but X is uint8
  auto y = run_ref(spec);
  ASSERT_FALSE(y.is_ok());
  EXPECT_NE(y.status().message().find("uint8"), std::string::npos) << y.status().message();
}

TEST(QuantizedAttrs, FusedConvRejectsNhwc) {
  ops::Attributes a = {{"dst_layout", std::string("NHWC")}};
  ops::set_epilogue_attrs({}, a);
  const ops::OpSchema* schema = ops::find_schema(ops::kFulcrumDomain, "FusedConv");
  ASSERT_NE(schema, nullptr);
  auto parsed = schema->parse(a, 1);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.status().message().find("NHWC"), std::string::npos) << parsed.status().message();
}

}  // namespace
}  // namespace fulcrum::testing
