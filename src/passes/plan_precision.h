// The precision plan: decides, per layer of the fused graph, whether it runs in INT8, FP16 or
// FP32, and records why (ir::Node::precision / precision_reason, which `fulcrum inspect`
// prints). Precision flags are permissions, as in TensorRT: a layer gets INT8 only where an
// INT8 kernel exists and its input has a scale, FP16 only where the FP16 rule finds it safe.
// Requests (--layer-precisions) bind as the constraints say: `prefer` falls back with a
// warning, `obey` fails the build naming every layer it cannot honour.
//
// Runs after the fusion passes, so a layer is what the engine runs (a Conv with its ReLU and
// residual Add), addressed by the ONNX name of the node it is anchored on.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "fulcrum/precision.h"
#include "passes/pass.h"

namespace fulcrum::passes {

// Whether a layer may run in FP16, and why (or why not).
struct Fp16Check {
  bool safe = false;
  std::string reason;
};
using Fp16Rule = std::function<Fp16Check(const ir::Graph&, const ir::Node&)>;

struct PrecisionPlanOptions {
  bool fp16 = false;
  bool int8 = false;
  std::vector<LayerPrecision> requests;
  PrecisionConstraints constraints = PrecisionConstraints::kNone;
  // Layers the model itself quantized (Q/DQ), by name: INT8 requests that `obey` binds.
  std::set<std::string> explicit_int8;
  Fp16Rule fp16_rule;  // unset: every float layer is FP16-safe
  // Receives each warning (a `prefer` fallback); unset: logged.
  std::function<void(const std::string&)> warn;
};

// `*` matches any run of characters (also '/'), `?` one character.
bool glob_match(std::string_view pattern, std::string_view text);

class PlanPrecision : public Pass {
 public:
  explicit PlanPrecision(PrecisionPlanOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "plan_precision"; }
  // Sets every node's precision and reason; fails (obey) listing the layers it cannot honour.
  // Reports "changed" only on the first run, so run_passes reaches its fixed point.
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;

 private:
  PrecisionPlanOptions options_;
  bool planned_ = false;
};

}  // namespace fulcrum::passes
