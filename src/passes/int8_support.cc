#include "passes/int8_support.h"

#include <fmt/format.h>

#include "ops/fused.h"
#include "ops/matmul.h"

namespace fulcrum::passes {
namespace {

bool is_onnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }
bool is_fulcrum(const ir::Node& n, const char* op) { return n.domain == ops::kFulcrumDomain && n.op_type == op; }

const ir::Value* input(const ir::Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : nullptr; }

bool float_rank(const ir::Value* v, size_t rank) {
  return v != nullptr && v->type.dtype == DType::kFloat32 && v->type.dims && v->type.dims->size() == rank;
}

bool constant_float(const ir::Value* v, size_t rank) {
  return v != nullptr && v->is_constant() && v->constant.dtype() == DType::kFloat32 && v->constant.rank() == rank;
}

Int8Check no(std::string reason) { return {false, std::move(reason)}; }

Int8Check check_conv(const ir::Node& n) {
  if (!constant_float(input(n, 1), 4)) return no("weights are not a constant float32 4-D tensor");
  if (!float_rank(input(n, 0), 4)) return no("input is not a float32 4-D (NCHW) tensor");
  if (is_fulcrum(n, "FusedConv")) {
    const auto& a = n.attrs_as<ops::FusedConvAttrs>();
    if (a.src_layout != ops::Layout::kNchw || a.dst_layout != ops::Layout::kNchw) return no("blocked layout");
  }
  return {true, "QConv"};
}

Int8Check check_matmul(const ir::Node& n, const ops::GemmAttrs* gemm) {
  if (gemm != nullptr && gemm->trans_a) return no("Gemm with transA");
  if (!constant_float(input(n, 1), 2)) return no("B is not a constant float32 2-D matrix");
  // A's rank may be unknown (shape inference loses it after BERT's reshapes): the kernel folds
  // whatever leading axes it has into rows at run time.
  const ir::Value* a = input(n, 0);
  const bool float_a = a != nullptr && (a->type.dtype == DType::kFloat32 || a->type.dtype == DType::kUndefined);
  if (!float_a || (a->type.dims && a->type.dims->size() < 2)) return no("A is not a float32 matrix");
  return {true, "QMatMul"};
}

}  // namespace

bool int8_op_type(const ir::Node& n) {
  if (is_onnx(n)) return n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul";
  return is_fulcrum(n, "FusedConv") || is_fulcrum(n, "FusedMatMul");
}

Int8Check int8_support(const ir::Graph& graph, const ir::Node& node) {
  if (node.typed_attrs == nullptr) return no("no INT8 kernel for " + node.op_type);
  Int8Check c;
  if ((is_onnx(node) && node.op_type == "Conv") || is_fulcrum(node, "FusedConv")) {
    c = check_conv(node);
  } else if (is_onnx(node) && node.op_type == "Gemm") {
    c = check_matmul(node, &node.attrs_as<ops::GemmAttrs>());
  } else if (is_onnx(node) && node.op_type == "MatMul") {
    c = check_matmul(node, nullptr);
  } else if (is_fulcrum(node, "FusedMatMul")) {
    const auto& a = node.attrs_as<ops::FusedMatMulAttrs>();
    c = check_matmul(node, a.gemm ? &a : nullptr);
  } else {
    const std::string op = is_onnx(node) ? node.op_type : node.domain + "." + node.op_type;
    return no("no INT8 kernel for " + op);
  }
  if (!c.ok) return c;
  const ir::Value* x = input(node, kInt8ActivationInput);
  if (graph.tensor_scales.count(x->name()) == 0)
    return no(fmt::format("no INT8 scale for its input '{}' (not in the calibration cache)", x->name()));
  return c;
}

}  // namespace fulcrum::passes
