#include "passes/plan_precision.h"

#include <fmt/format.h>

#include <optional>

#include "core/error.h"
#include "core/logging.h"
#include "passes/int8_support.h"

namespace fulcrum::passes {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point (the last '*'), linear in practice.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

struct Request {
  Precision precision;
  std::string pattern;
};

struct Choice {
  Precision precision = Precision::kFp32;
  std::string reason;
};

bool is_float_layer(const ir::Node& n) {
  for (const ir::Value* v : n.outputs)
    if (v != nullptr && (v->type.dtype == DType::kFloat32 || v->type.dtype == DType::kFloat16)) return true;
  return false;
}

class Planner {
 public:
  Planner(const ir::Graph& graph, const PrecisionPlanOptions& o) : graph_(graph), o_(o) {}

  Choice plan(const ir::Node& n) {
    if (!is_float_layer(n)) return {Precision::kFp32, "no float math"};
    const std::optional<Request> req = request(n);
    if (!req) return best(n, o_.int8 || o_.explicit_int8.count(n.name) > 0, o_.fp16, "");
    const std::string asked = fmt::format("requested {} ('{}')", precision_name(req->precision), req->pattern);
    switch (req->precision) {
      case Precision::kFp32: return {Precision::kFp32, asked};
      case Precision::kFp16: {
        const Fp16Check f = fp16(n);
        return {Precision::kFp16, f.safe ? asked : asked + "; the FP16 rule would not have chosen it: " + f.reason};
      }
      case Precision::kInt8: {
        const Int8Check c = int8_support(graph_, n);
        if (c.ok) return {Precision::kInt8, asked};
        const std::string why = fmt::format("layer '{}' ({}): {}, but {}", n.name, n.op_type, asked, c.reason);
        if (o_.constraints == PrecisionConstraints::kObey) {
          unmet_.push_back(why);
          return {Precision::kFp32, why};
        }
        warn(why + "; falling back");
        return best(n, false, o_.fp16, "INT8 requested but " + c.reason + "; ");
      }
    }
    return {};
  }

  const std::vector<std::string>& unmet() const { return unmet_; }

 private:
  // The last request whose pattern matches (requests bind only when constraints are set, and
  // INT8 ones only layers of an INT8-capable op type). A Q/DQ model's layers request INT8.
  std::optional<Request> request(const ir::Node& n) const {
    std::optional<Request> found;
    if (o_.constraints != PrecisionConstraints::kNone)
      for (const LayerPrecision& r : o_.requests)
        if (glob_match(r.pattern, n.name) && (r.precision != Precision::kInt8 || int8_op_type(n)))
          found = Request{r.precision, r.pattern};
    if (!found && o_.explicit_int8.count(n.name) > 0) found = Request{Precision::kInt8, "Q/DQ in the model"};
    return found;
  }

  Fp16Check fp16(const ir::Node& n) const { return o_.fp16_rule ? o_.fp16_rule(graph_, n) : Fp16Check{true, ""}; }

  // The lowest precision the permissions allow and a kernel supports.
  Choice best(const ir::Node& n, bool int8, bool fp16_ok, const std::string& prefix) const {
    std::string why_not;
    if (int8) {
      const Int8Check c = int8_support(graph_, n);
      if (c.ok) return {Precision::kInt8, prefix + "INT8 permitted, calibrated input scale: " + c.reason};
      why_not = "not INT8: " + c.reason;
    }
    if (fp16_ok) {
      const Fp16Check f = fp16(n);
      if (f.safe)
        return {Precision::kFp16, prefix + (why_not.empty() ? "" : why_not + "; ") + "FP16 safe" +
                                      (f.reason.empty() ? "" : ": " + f.reason)};
      why_not += (why_not.empty() ? "" : "; ") + std::string("not FP16: ") + f.reason;
    }
    if (!int8 && !fp16_ok) return {Precision::kFp32, prefix + "no lower precision permitted"};
    return {Precision::kFp32, prefix + why_not};
  }

  void warn(const std::string& message) const {
    if (o_.warn)
      o_.warn(message);
    else
      log_warning("{}", message);
  }

  const ir::Graph& graph_;
  const PrecisionPlanOptions& o_;
  std::vector<std::string> unmet_;
};

}  // namespace

Result<bool> PlanPrecision::run(ir::Graph& graph, PassContext& ctx) {
  if (planned_) return false;
  planned_ = true;
  Planner planner(graph, options_);
  for (const auto& n : graph.nodes()) {
    Choice c = planner.plan(*n);
    n->precision = c.precision;
    n->precision_reason = std::move(c.reason);
    ctx.count(name(), std::string(precision_name(c.precision)) + " layers");
  }
  if (!planner.unmet().empty()) {
    std::string list;
    for (const std::string& u : planner.unmet()) list += "\n  " + u;
    return invalid_argument("--precision-constraints obey: {} layer precision request(s) cannot be honoured:{}",
                            planner.unmet().size(), list);
  }
  return true;
}

}  // namespace fulcrum::passes
