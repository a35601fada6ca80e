#include "passes/fp16_safety.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "ir/graph_edit.h"
#include "ops/fused.h"

namespace fulcrum::passes {
namespace {

constexpr float kFp16Max = 65504.0f;
constexpr float kFp16MinNormal = 6.103515625e-05f;  // 2^-14
// A weight whose values below FP16's normal range hold more than this share of its magnitude
// (sum of |w|) loses too much of itself in FP16. The share of magnitude, not of the count:
// a 64-value bias with one value of 3e-5 (1.6% of its values) loses nothing that matters,
// since FP16 still holds that value within 2^-25, while a weight scaled down below 2^-14 as a
// whole would lose everything.
constexpr double kMaxSubnormalShare = 0.01;

enum class Rule {
  kSafeIfWeightsFit,  // computes, and its result stays in range whatever FP16 rounds
  kMovesData,         // copies or selects values: FP16 in, the same FP16 values out
  kFp32,              // overflows FP16 or loses precision there: `why` says how
};

// One op's rule. `params`: bit i set when input i is a parameter read as a number (never
// rounded to FP16), not tensor data.
struct OpRule {
  std::string_view domain;
  std::string_view op;
  Rule rule;
  std::string_view why;
  uint32_t params = 0;
};

constexpr std::string_view kSum = "sums many values: the sum overflows FP16's 65504 or drops its small terms";
constexpr std::string_view kNorm =
    "normalization: mean and variance sum squares over a whole axis, which overflow FP16, and its eps (1e-5) "
    "is below FP16's normal range";
constexpr std::string_view kPowers = "sums powers of its inputs, which overflow FP16's 65504";

// The rules. Ops not listed stay FP32 ("no FP16 rule"). Softmax is safe: it subtracts the
// row's max, so exp() <= 1 and the sum >= 1 cannot overflow, and TensorRT runs it with FP16
// input and output (FP32 inside). Here it computes in FP32 and only its input and output are
// FP16-rounded: a logit x rounded (relative error <= 2^-11) scales its exp() by at most
// e^(|x| 2^-11), under 1% for |x| < 20; a probability, by at most 2^-11.
constexpr OpRule kRules[] = {
    // Matrix products and convolutions (FP32 accumulation on every FP16 engine).
    {"", "Conv", Rule::kSafeIfWeightsFit, "convolution"},
    {"", "ConvTranspose", Rule::kSafeIfWeightsFit, "convolution"},
    {"", "Gemm", Rule::kSafeIfWeightsFit, "matrix product"},
    {"", "MatMul", Rule::kSafeIfWeightsFit, "matrix product"},
    {"fulcrum", "FusedConv", Rule::kSafeIfWeightsFit, "convolution"},
    {"fulcrum", "FusedMatMul", Rule::kSafeIfWeightsFit, "matrix product"},
    // Pooling: a max, or the mean of a window, stays within its inputs' range.
    {"", "MaxPool", Rule::kSafeIfWeightsFit, "pooling"},
    {"", "AveragePool", Rule::kSafeIfWeightsFit, "pooling"},
    {"", "GlobalAveragePool", Rule::kSafeIfWeightsFit, "pooling"},
    {"", "GlobalMaxPool", Rule::kSafeIfWeightsFit, "pooling"},
    {"fulcrum", "BlockedPool", Rule::kSafeIfWeightsFit, "pooling"},
    {"", "LpPool", Rule::kFp32, kPowers},
    {"", "GlobalLpPool", Rule::kFp32, kPowers},
    // Element-wise arithmetic and bounded or range-preserving activations.
    {"", "Add", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Sub", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Mul", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Sum", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Mean", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Max", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Min", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Neg", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Abs", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Sign", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Sqrt", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Floor", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Ceil", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Round", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Where", Rule::kSafeIfWeightsFit, "element-wise"},
    {"", "Clip", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Relu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "LeakyRelu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "PRelu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Elu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Selu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Celu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "ThresholdedRelu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Shrink", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Sigmoid", Rule::kSafeIfWeightsFit, "activation"},
    {"", "HardSigmoid", Rule::kSafeIfWeightsFit, "activation"},
    {"", "HardSwish", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Tanh", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Erf", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Softsign", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Softplus", Rule::kSafeIfWeightsFit, "activation"},
    {"fulcrum", "Gelu", Rule::kSafeIfWeightsFit, "activation"},
    {"fulcrum", "Silu", Rule::kSafeIfWeightsFit, "activation"},
    {"", "Softmax", Rule::kSafeIfWeightsFit, "softmax (max-subtracted: cannot overflow)"},
    {"", "LogSoftmax", Rule::kSafeIfWeightsFit, "softmax (max-subtracted: cannot overflow)"},
    {"", "Dropout", Rule::kSafeIfWeightsFit, "identity at inference", 0b110},
    {"", "Resize", Rule::kSafeIfWeightsFit, "interpolation", 0b110},
    {"", "Upsample", Rule::kSafeIfWeightsFit, "interpolation", 0b10},
    {"", "Pad", Rule::kSafeIfWeightsFit, "data movement"},
    // Data movement (ops with the kShapeOnly trait move data too; see rule_for).
    {"", "Gather", Rule::kMovesData, "data movement"},
    {"", "GatherElements", Rule::kMovesData, "data movement"},
    {"", "GatherND", Rule::kMovesData, "data movement"},
    // Known to overflow FP16 or lose its precision.
    {"", "Div", Rule::kFp32, "division by a tensor that can approach zero overflows FP16's 65504"},
    {"", "Reciprocal", Rule::kFp32, "1/x overflows FP16's 65504 for |x| < 1.5e-5"},
    {"", "Exp", Rule::kFp32, "exp(x) overflows FP16's 65504 for x > 11.1"},
    {"", "Pow", Rule::kFp32, "x^p overflows FP16's 65504 for moderate x and p"},
    {"", "Log", Rule::kFp32, "log of an input FP16 flushes to zero (< 6e-8) is -inf"},
    {"", "ReduceSum", Rule::kFp32, kSum},
    {"", "ReduceMean", Rule::kFp32, kSum},
    {"", "ReduceSumSquare", Rule::kFp32, kSum},
    {"", "ReduceL1", Rule::kFp32, kSum},
    {"", "ReduceL2", Rule::kFp32, kSum},
    {"", "ReduceLogSum", Rule::kFp32, kSum},
    {"", "ReduceLogSumExp", Rule::kFp32, kSum},
    {"", "ReduceProd", Rule::kFp32, "a product of many values overflows or underflows FP16"},
    {"", "CumSum", Rule::kFp32, kSum},
    {"", "LayerNormalization", Rule::kFp32, kNorm},
    {"", "InstanceNormalization", Rule::kFp32, kNorm},
    {"", "GroupNormalization", Rule::kFp32, kNorm},
    {"", "MeanVarianceNormalization", Rule::kFp32, kNorm},
    {"", "LpNormalization", Rule::kFp32, kNorm},
    {"", "LRN", Rule::kFp32, kNorm},
    {"", "BatchNormalization", Rule::kFp32, "unfolded normalization: var + eps loses eps (1e-5) in FP16"},
    {"fulcrum", "LayerNorm", Rule::kFp32, kNorm},
    {"", "RNN", Rule::kFp32, "recurrence: rounding errors compound over time steps"},
    {"", "LSTM", Rule::kFp32, "recurrence: rounding errors compound over time steps"},
    {"", "GRU", Rule::kFp32, "recurrence: rounding errors compound over time steps"},
};

const OpRule* find_rule(std::string_view domain, std::string_view op) {
  for (const OpRule& r : kRules)
    if (r.domain == domain && r.op == op) return &r;
  return nullptr;
}

bool has_constant_input(const ir::Node& node, size_t i) {
  return i < node.inputs.size() && node.inputs[i] != nullptr && node.inputs[i]->is_constant();
}

// The rule for a node: the table's, or "moves data" for ops with the kShapeOnly trait. A
// division by a constant is safe (its divisor is checked like a weight); by a tensor it is not.
const OpRule* rule_for(const ir::Node& node) {
  static constexpr OpRule kDivByConstant{"", "Div", Rule::kSafeIfWeightsFit, "division by a constant"};
  if (node.domain.empty() && node.op_type == "Div" && has_constant_input(node, 1)) return &kDivByConstant;
  if (const OpRule* r = find_rule(node.domain, node.op_type)) return r;
  static constexpr OpRule kShapeOnlyRule{"", "", Rule::kMovesData, "data movement"};
  if (node.schema != nullptr && (node.schema->traits & ops::kShapeOnly)) return &kShapeOnlyRule;
  return nullptr;
}

bool is_float32(const ir::Value* v) {
  if (v == nullptr) return false;
  const DType dt = v->is_constant() ? v->constant.dtype() : v->type.dtype;
  return dt == DType::kFloat32 || dt == DType::kUndefined;  // unknown: assume it may be
}

// Empty when every float constant data input fits FP16; else what does not.
std::string weight_problem(const ir::Node& node, std::string& summary) {
  float max_abs = 0;
  int64_t subnormal = 0, nonzero = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const ir::Value* v = node.inputs[i];
    if (v == nullptr || !v->is_constant() || v->constant.dtype() != DType::kFloat32 || !is_fp16_data_input(node, i))
      continue;
    const Fp16WeightStats s = fp16_weight_stats(v->constant.data<float>(), static_cast<size_t>(v->constant.numel()));
    if (s.overflow > 0)
      return fmt::format("weight '{}': {} of {} values beyond FP16's range 65504 (max |w| = {:.4g})", v->name(),
                         s.overflow, s.count, s.max_abs);
    if (s.subnormal_abs_sum > kMaxSubnormalShare * s.abs_sum)
      return fmt::format(
          "weight '{}': {} of its {} nonzero values ({:.1f}%), holding {:.1f}% of its magnitude (limit {:.0f}%), lie "
          "below FP16's normal range 2^-14 = 6.1e-05, where they lose precision or flush to zero",
          v->name(), s.subnormal, s.nonzero, 100.0 * static_cast<double>(s.subnormal) / static_cast<double>(s.nonzero),
          100.0 * s.subnormal_abs_sum / s.abs_sum, 100 * kMaxSubnormalShare);
    max_abs = std::max(max_abs, s.max_abs);
    subnormal += s.subnormal;
    nonzero += s.nonzero;
  }
  if (nonzero > 0)
    summary =
        fmt::format("weights fit FP16 (max |w| {:.3g}, {} of {} nonzero below 2^-14)", max_abs, subnormal, nonzero);
  return {};
}

// A fused node is as safe as its anchor and each post-op: names the first post-op that is not.
std::string unsafe_post_op(const ir::Node& node) {
  const ops::Epilogue* epilogue = nullptr;
  if (node.domain == ops::kFulcrumDomain && node.typed_attrs != nullptr) {
    if (node.op_type == "FusedConv") epilogue = &node.attrs_as<ops::FusedConvAttrs>().epilogue;
    if (node.op_type == "FusedMatMul") epilogue = &node.attrs_as<ops::FusedMatMulAttrs>().epilogue;
  }
  if (epilogue == nullptr) return {};
  for (const ops::PostOp& p : epilogue->post_ops) {
    const OpRule* r = find_rule(p.domain, p.op_type);
    if (r == nullptr) return fmt::format("its post-op {} has no FP16 rule", p.qualified_name());
    if (r->rule == Rule::kFp32) return fmt::format("its post-op {}: {}", p.qualified_name(), r->why);
  }
  return {};
}

// Names a consumer that reads one of `node`'s outputs as a parameter (a Resize's scales).
std::string feeds_parameter(const ir::Graph& graph, const ir::Node& node) {
  for (const ir::Value* out : node.outputs) {
    if (out == nullptr) continue;
    for (const ir::Node* c : ir::consumers(graph, out))
      for (size_t i = 0; i < c->inputs.size(); ++i)
        if (c->inputs[i] == out && is_float32(out) && !is_fp16_data_input(*c, i))
          return fmt::format("computes input {} of {}, a parameter rather than data", i, c->label());
  }
  return {};
}

}  // namespace

Fp16WeightStats fp16_weight_stats(const float* w, size_t n) {
  Fp16WeightStats s;
  s.count = static_cast<int64_t>(n);
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(w[i]);
    s.nonzero += a != 0;
    s.overflow += !(a <= kFp16Max);  // NaN counts: it does not fit either
    const bool tiny = a != 0 && a < kFp16MinNormal;
    s.subnormal += tiny;
    if (a > s.max_abs) s.max_abs = a;
    if (a <= kFp16Max) {  // overflow and NaN are reported as such; they would swamp the sums
      s.abs_sum += a;
      if (tiny) s.subnormal_abs_sum += a;
    }
  }
  return s;
}

bool is_fp16_data_input(const ir::Node& node, size_t i) {
  if (i >= node.inputs.size() || !is_float32(node.inputs[i])) return false;
  const OpRule* r = find_rule(node.domain, node.op_type);
  return r == nullptr || i >= 32 || (r->params & (1u << i)) == 0;
}

Fp16Verdict fp16_verdict(const ir::Graph& graph, const ir::Node& node) {
  bool float_output = false;
  std::vector<std::string> types;
  for (const ir::Value* out : node.outputs) {
    float_output = float_output || is_float32(out);
    if (out != nullptr) types.push_back(dtype_name(out->type.dtype));
  }
  if (!float_output)
    return {false, fmt::format("no float math: its output is {} (precision does not apply)", fmt::join(types, ", "))};
  const OpRule* rule = rule_for(node);
  if (rule == nullptr) return {false, fmt::format("no FP16 rule for {}: kept in FP32", node.op_type)};
  if (rule->rule == Rule::kFp32) return {false, std::string(rule->why)};
  if (std::string post = unsafe_post_op(node); !post.empty()) return {false, post};
  if (std::string param = feeds_parameter(graph, node); !param.empty()) return {false, param};
  std::string summary;
  if (std::string problem = weight_problem(node, summary); !problem.empty()) return {false, problem};
  std::string why(rule->rule == Rule::kMovesData ? "moves data without arithmetic" : rule->why);
  return {true, summary.empty() ? why : why + "; " + summary};
}

}  // namespace fulcrum::passes
