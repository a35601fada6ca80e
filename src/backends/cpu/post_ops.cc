#include "backends/cpu/post_ops.h"

#include <cfloat>
#include <optional>

#include "core/error.h"
#include "ops/elementwise.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::algorithm;

struct Eltwise {
  algorithm alg;
  float alpha = 0.0f;
  float beta = 0.0f;
};

std::optional<std::string> string_attr(const ops::PostOp& op, const char* name) {
  auto it = op.attrs.find(name);
  if (it == op.attrs.end()) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return std::nullopt;
}

// The eltwise post-ops computing a unary post-op; empty when oneDNN has none.
std::vector<Eltwise> eltwise_of(const ops::PostOp& op) {
  const std::string& t = op.op_type;
  if (op.domain == ops::kFulcrumDomain) {
    if (t == "Silu") return {{algorithm::eltwise_swish, 1.0f}};
    if (t == "Gelu") {
      const std::string approx = string_attr(op, "approximate").value_or("none");
      if (approx == "none") return {{algorithm::eltwise_gelu_erf}};
      if (approx == "tanh") return {{algorithm::eltwise_gelu_tanh}};
    }
    return {};
  }
  if (!op.domain.empty()) return {};
  if (t == "Relu") return {{algorithm::eltwise_relu, 0.0f}};
  if (t == "Sigmoid") return {{algorithm::eltwise_logistic}};
  if (t == "Tanh") return {{algorithm::eltwise_tanh}};
  if (t == "HardSwish") return {{algorithm::eltwise_hardswish}};
  if (t == "Softplus") return {{algorithm::eltwise_soft_relu}};
  const auto* act = dynamic_cast<const ops::ActivationAttrs*>(op.typed.get());
  if (t == "LeakyRelu" && act) return {{algorithm::eltwise_relu, act->alpha}};
  if (t == "Elu" && act) return {{algorithm::eltwise_elu, act->alpha}};
  // max(0, min(1, alpha * x + beta)): oneDNN 2.6 has no hardsigmoid.
  if (t == "HardSigmoid" && act)
    return {{algorithm::eltwise_linear, act->alpha, act->beta}, {algorithm::eltwise_clip, 0.0f, 1.0f}};
  if (t == "Clip") {
    const auto* clip = dynamic_cast<const ops::ClipAttrs*>(op.typed.get());
    if (clip && clip->bounds_from_attrs) return {{algorithm::eltwise_clip, clip->min, clip->max}};
    if (clip && op.opset >= 11) return {{algorithm::eltwise_clip, -FLT_MAX, FLT_MAX}};  // no bounds given
  }
  return {};
}

bool is_add(const ops::PostOp& op) { return op.domain.empty() && op.op_type == "Add"; }

}  // namespace

bool supports_epilogue(const ops::Epilogue& e, const ir::Node& node) {
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input >= 0) {
      const size_t i = static_cast<size_t>(op.input);
      if (!is_add(op) || i >= node.inputs.size() || node.inputs[i] == nullptr) return false;
      const ir::Value& v = *node.inputs[i];
      const DType dtype = v.is_constant() ? v.constant.dtype() : v.type.dtype;
      if (dtype != DType::kFloat32) return false;
    } else if (eltwise_of(op).empty()) {
      return false;
    }
  }
  return true;
}

bool append_unary_post_op(const ops::PostOp& op, dnnl::post_ops& ops) {
  const std::vector<Eltwise> eltwise = eltwise_of(op);
  for (const Eltwise& el : eltwise) ops.append_eltwise(1.0f, el.alg, el.alpha, el.beta);
  return !eltwise.empty();
}

Result<EpiloguePlan> plan_epilogue(const ops::Epilogue& e, const Shape& dst, const std::vector<Shape>& operand_shapes,
                                   dnnl::memory::format_tag full_operand_tag) {
  EpiloguePlan plan;
  size_t next_operand = 0;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) {
      for (const Eltwise& el : eltwise_of(op)) plan.ops.append_eltwise(1.0f, el.alg, el.alpha, el.beta);
      continue;
    }
    if (next_operand >= operand_shapes.size()) return internal_error("missing the shape of post-op operand");
    const Shape& s = operand_shapes[next_operand++];
    if (s.size() > dst.size()) return invalid_argument("Add operand {} is wider than the output", shape_to_string(s));
    Shape dims(dst.size() - s.size(), 1);
    dims.insert(dims.end(), s.begin(), s.end());
    for (size_t d = 0; d < dims.size(); ++d)
      if (dims[d] != 1 && dims[d] != dst[d])
        return invalid_argument("Add operand {} does not broadcast onto {}", shape_to_string(s), shape_to_string(dst));
    const dnnl::memory::desc desc = dims == dst ? plain_desc(dims, full_operand_tag) : plain_desc(dims);
    plan.operands.push_back({plan.ops.len(), static_cast<size_t>(op.input), desc});
    plan.ops.append_binary(algorithm::binary_add, desc);
  }
  return plan;
}

std::vector<Shape> operand_shapes(const ops::Epilogue& e, const KernelContext& ctx) {
  std::vector<Shape> shapes;
  for (const ops::PostOp& op : e.post_ops)
    if (op.input >= 0) shapes.push_back(ctx.input(static_cast<size_t>(op.input)).shape());
  return shapes;
}

void add_operand_args(const EpiloguePlan& plan, const KernelContext& ctx, ExecArgs& args) {
  for (const BinaryOperand& o : plan.operands)
    args.add(DNNL_ARG_ATTR_MULTIPLE_POST_OP(o.post_op) | DNNL_ARG_SRC_1, wrap(ctx.input(o.input), o.desc));
}

}  // namespace fulcrum::backends::cpu
