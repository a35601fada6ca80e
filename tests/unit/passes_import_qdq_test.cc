#include "passes/import_qdq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "fulcrum/network.h"
#include "ir/graph_edit.h"
#include "passes_test_util.h"
#include "quant/qdq_export.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

Result<bool> run_pass(ir::Graph& g) {
  passes::PassContext ctx;
  std::vector<std::unique_ptr<passes::Pass>> list;
  list.push_back(passes::make_import_qdq_pass());
  auto stats = passes::run_passes(g, list, ctx);
  if (!stats.is_ok()) return stats.status();
  return stats->changes["import_qdq"] > 0;
}

Tensor scalar_f(float v) { return Tensor::from_vector<float>(DType::kFloat32, {}, {v}); }
template <class T>
Tensor scalar(DType dtype, T v) {
  return Tensor::from_vector<T>(dtype, {}, {v});
}

// x -Q/DQ-> Conv(DQ(w_q), DQ(b_q)) -> y, as ONNX Runtime's quantizer writes a conv.
struct QdqConv {
  GraphBuilder b{13};
  Tensor w_q = Tensor::zeros(DType::kInt8, {4, 3, 3, 3});
  std::vector<float> w_scales = {0.5f, 0.25f, 0.125f, 0.02f};
  QdqConv(Tensor x_zp = scalar<int8_t>(DType::kInt8, 0), float dq_scale = 0.05f) {
    for (int64_t i = 0; i < w_q.numel(); ++i) w_q.mutable_data<int8_t>()[i] = static_cast<int8_t>((i * 37) % 255 - 127);
    ir::Value* x = b.input("x", DType::kFloat32, {1, 3, 6, 6});
    ir::Value* zp = b.constant("x_zp", x_zp);
    ir::Value* xq = b.node("QuantizeLinear", {x, b.constant("x_scale", scalar_f(0.05f)), zp}, {"xq"})->outputs[0];
    ir::Value* xd =
        b.node("DequantizeLinear", {xq, b.constant("x_scale2", scalar_f(dq_scale)), zp}, {"xd"})->outputs[0];
    ir::Value* w =
        b.node("DequantizeLinear",
               {b.constant("w_q", w_q), b.constant("w_s", Tensor::from_vector(DType::kFloat32, {4}, w_scales)),
                b.constant("w_zp", Tensor::zeros(DType::kInt8, {4}))},
               {"w"}, {{"axis", int64_t{0}}})
            ->outputs[0];
    ir::Value* bias =
        b.node(
             "DequantizeLinear",
             {b.constant("b_q", Tensor::from_vector<int32_t>(DType::kInt32, {4}, {100, -200, 0, 7})),
              b.constant("b_s", Tensor::from_vector<float>(DType::kFloat32, {4}, {0.025f, 0.0125f, 0.00625f, 0.001f}))},
             {"b"}, {{"axis", int64_t{0}}})
            ->outputs[0];
    b.output(b.node("Conv", {xd, w, bias}, {"y"}, {{"pads", Ints{1, 1, 1, 1}}})->outputs[0]);
  }
};

TEST(ImportQdq, NoOpWithoutQdq) {
  GraphBuilder b{13};
  ir::Value* x = b.input("x", DType::kFloat32, {1, 3, 6, 6});
  b.output(b.node("Conv", {x, b.constant("w", random_floats({4, 3, 3, 3}, 1))}, {"y"})->outputs[0]);
  auto changed = run_pass(b.graph());
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_FALSE(*changed);
  EXPECT_TRUE(b.graph().tensor_scales.empty());
  EXPECT_EQ(b.graph().nodes()[0]->precision, Precision::kFp32);
}

TEST(ImportQdq, RemovesPairsRecordsScalesFoldsWeights) {
  QdqConv t;
  auto changed = run_pass(t.b.graph());
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  const ir::Graph& g = t.b.graph();
  ASSERT_EQ(g.nodes().size(), 1u) << ir::to_string(g);
  const ir::Node& conv = *g.nodes()[0];
  EXPECT_EQ(conv.inputs[0]->name(), "x");
  EXPECT_EQ(g.tensor_scales.at("x"), 0.05f);
  EXPECT_EQ(conv.precision, Precision::kInt8);
  EXPECT_EQ(conv.precision_reason, "Q/DQ in the model");
  // The weight: float w_q * s under the DQ's output name, which re-quantizes to w_q exactly.
  const ir::Value* w = conv.inputs[1];
  ASSERT_EQ(w->name(), "w");
  ASSERT_TRUE(w->is_constant() && w->constant.dtype() == DType::kFloat32);
  const ir::WeightQuant& wq = g.weight_scales.at("w");
  EXPECT_EQ(wq.axis, 0);
  EXPECT_EQ(wq.scales, t.w_scales);
  for (int64_t i = 0; i < t.w_q.numel(); ++i) {
    const float s = t.w_scales[static_cast<size_t>(i / 27)];
    EXPECT_EQ(w->constant.data<float>()[i], t.w_q.data<int8_t>()[i] * s);
    EXPECT_EQ(std::nearbyint(w->constant.data<float>()[i] / s), t.w_q.data<int8_t>()[i]);
  }
  // The int32 bias: folded to float, no scale recorded.
  EXPECT_EQ(to_vector<float>(conv.inputs[2]->constant), (std::vector<float>{2.5f, -2.5f, 0.0f, 0.007f}));
  EXPECT_EQ(g.weight_scales.count("b"), 0u);
}

TEST(ImportQdq, Uint8ZeroPoint128IsSymmetric) {
  QdqConv t(scalar<uint8_t>(DType::kUInt8, 128));
  auto changed = run_pass(t.b.graph());
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_EQ(t.b.graph().tensor_scales.at("x"), 0.05f);
  EXPECT_EQ(t.b.graph().nodes()[0]->precision, Precision::kInt8);
}

TEST(ImportQdq, AsymmetricActivationIsAnError) {
  QdqConv t(scalar<int8_t>(DType::kInt8, 3));
  auto changed = run_pass(t.b.graph());
  ASSERT_FALSE(changed.is_ok());
  EXPECT_NE(changed.status().message().find("asymmetric activation quantization"), std::string::npos);
  EXPECT_NE(changed.status().message().find("QuantizeLinear"), std::string::npos);
  EXPECT_NE(changed.status().message().find("ActivationSymmetric=True"), std::string::npos);
}

TEST(ImportQdq, DequantizeWithAnotherScaleIsAnError) {
  QdqConv t(scalar<int8_t>(DType::kInt8, 0), 0.1f);
  auto changed = run_pass(t.b.graph());
  ASSERT_FALSE(changed.is_ok());
  EXPECT_NE(changed.status().message().find("DequantizeLinear_1"), std::string::npos) << changed.status().message();
}

TEST(ImportQdq, OneTensorWithTwoScalesIsAnError) {
  GraphBuilder b{13};
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  ir::Value* zp = b.constant("zp", scalar<int8_t>(DType::kInt8, 0));
  for (float s : {0.1f, 0.2f}) {
    const std::string n = std::to_string(static_cast<int>(s * 10));
    ir::Value* sv = b.constant("s" + n, scalar_f(s));
    ir::Value* q = b.node("QuantizeLinear", {x, sv, zp}, {"q" + n})->outputs[0];
    b.output(b.node("DequantizeLinear", {q, sv, zp}, {"d" + n})->outputs[0]);
  }
  auto changed = run_pass(b.graph());
  ASSERT_FALSE(changed.is_ok());
  const std::string& m = changed.status().message();
  EXPECT_NE(m.find("QuantizeLinear_0"), std::string::npos) << m;
  EXPECT_NE(m.find("QuantizeLinear_2"), std::string::npos) << m;
}

TEST(ImportQdq, QuantizeWithoutDequantizeStays) {
  GraphBuilder b{13};
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  b.output(b.node("QuantizeLinear",
                  {x, b.constant("s", scalar_f(0.1f)), b.constant("zp", scalar<int8_t>(DType::kInt8, 0))}, {"q"})
               ->outputs[0]);
  auto changed = run_pass(b.graph());
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(count_ops(b.graph(), "QuantizeLinear"), 1);
}

// The Fashion CNN through export-qdq (a cache with one scale for every activation), imported
// and run through the pass: every conv and the classifier are INT8 with their input's scale.
TEST(ImportQdq, ExportedFashionCnn) {
  const auto dir = std::filesystem::path(__FILE__).parent_path() / "../../models/fashion";
  auto float_net = Network::from_onnx_file((dir / "cnn.onnx").string());
  ASSERT_TRUE(float_net.is_ok()) << float_net.status().to_string();
  quant::CalibrationCache cache;
  for (const auto& n : (*float_net)->graph()->nodes())
    for (const ir::Value* v : n->outputs) ASSERT_TRUE(cache.set_scale(v->name(), 0.05f).is_ok());
  ASSERT_TRUE(cache.set_scale((*float_net)->graph()->inputs[0]->name(), 1.0f / 127).is_ok());
  const std::string qdq = (std::filesystem::temp_directory_path() / "fulcrum_import_qdq_cnn.onnx").string();
  auto summary = quant::export_qdq((dir / "cnn.onnx").string(), cache, {}, qdq);
  ASSERT_TRUE(summary.is_ok()) << summary.status().to_string();

  auto net = Network::from_onnx_file(qdq);
  ASSERT_TRUE(net.is_ok()) << net.status().to_string();
  std::unique_ptr<ir::Graph> g = ir::clone(*(*net)->graph());
  auto changed = run_pass(*g);
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(count_ops(*g, "QuantizeLinear") + count_ops(*g, "DequantizeLinear"), 0);
  int convs = 0;
  for (const auto& n : g->nodes()) {
    if (n->op_type != "Conv" && n->op_type != "Gemm") continue;
    convs += n->op_type == "Conv";
    EXPECT_EQ(n->precision, Precision::kInt8) << n->label();
    EXPECT_EQ(g->tensor_scales.count(n->inputs[0]->name()), 1u) << n->label();
    EXPECT_EQ(g->weight_scales.at(n->inputs[1]->name()).scales.size(),
              static_cast<size_t>(n->inputs[1]->constant.dim(0)))
        << n->label();
  }
  EXPECT_EQ(convs, 15);
  EXPECT_EQ(g->outputs[0]->name(), "logits");
  std::filesystem::remove(qdq);
}

}  // namespace
}  // namespace fulcrum::testing
