// Reference kernels for NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
// Inputs are [N, C, d1, ..., dk] (log-)probabilities or scores and [N, d1, ..., dk] class
// indices; per position, loss = -weight[t] * log_prob[n, t, d] with t the target class.
// Positions whose target equals ignore_index contribute 0 with weight 0. Reduction "mean"
// divides the sum by the sum of the weights used, not by the number of positions.
#include <cmath>
#include <limits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/loss.h"

namespace fulcrum::backends::reference {
namespace {

// The [N, C, D] view of the scores (D = product of d1..dk).
struct LossLayout {
  int64_t n = 0, classes = 0, positions = 1;
};

Result<LossLayout> loss_layout(const Tensor& scores, const Tensor& target, const char* scores_name) {
  if (scores.rank() < 2)
    return invalid_argument("input '{}' must have rank >= 2 (N x C x ...), got {}", scores_name,
                            shape_to_string(scores.shape()));
  Shape expected = scores.shape();
  expected.erase(expected.begin() + 1);
  if (target.shape() != expected)
    return invalid_argument("input 'target' has shape {}, expected {} (the scores' shape without the class axis)",
                            shape_to_string(target.shape()), shape_to_string(expected));
  if (target.dtype() != DType::kInt32 && target.dtype() != DType::kInt64)
    return invalid_argument("input 'target' must be int32 or int64, got {}", dtype_name(target.dtype()));
  LossLayout l{scores.dim(0), scores.dim(1), 1};
  for (int64_t d = 2; d < scores.rank(); ++d) l.positions *= scores.dim(d);
  return l;
}

// Output 0 from log-probabilities laid out as [N, C, D]; target is input 1, weight input 2.
Status write_loss(KernelContext& ctx, const LossLayout& l, const std::vector<double>& log_prob, DType dtype) {
  const auto& a = ctx.attrs<ops::LossAttrs>();
  const Tensor& target = ctx.input(1);
  std::vector<double> class_weight;
  if (ctx.has_input(2)) {
    const Tensor& w = ctx.input(2);
    if (w.rank() != 1 || w.dim(0) != l.classes)
      return invalid_argument("input 'weight' has shape {}, expected [{}] (one per class)", shape_to_string(w.shape()),
                              l.classes);
    class_weight = read_doubles(w);
  }
  std::vector<double> loss(static_cast<size_t>(target.numel())), weight(loss.size());
  for (int64_t n = 0; n < l.n; ++n)
    for (int64_t d = 0; d < l.positions; ++d) {
      const size_t i = static_cast<size_t>(n * l.positions + d);
      const int64_t t = read_as_int64(target, static_cast<int64_t>(i));
      if (a.ignore_index && t == *a.ignore_index) continue;
      if (t < 0 || t >= l.classes)
        return invalid_argument("input 'target' has class {} at flat index {}, outside [0, {})", t, i, l.classes);
      weight[i] = class_weight.empty() ? 1.0 : class_weight[static_cast<size_t>(t)];
      loss[i] = -log_prob[static_cast<size_t>((n * l.classes + t) * l.positions + d)] * weight[i];
    }
  if (a.reduction == ops::LossReduction::kNone) return write_doubles(ctx, 0, dtype, target.shape(), loss);
  double loss_sum = 0, weight_sum = 0;
  for (size_t i = 0; i < loss.size(); ++i) {
    loss_sum += loss[i];
    weight_sum += weight[i];
  }
  // Mean with every position ignored is 0/0 = NaN, as in the ONNX reference and PyTorch.
  const double value = a.reduction == ops::LossReduction::kSum ? loss_sum : loss_sum / weight_sum;
  return write_doubles(ctx, 0, dtype, {}, {value});
}

// Inputs: input (log-probabilities), target, weight (optional).
Status nll_loss(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32 && x.dtype() != DType::kFloat64) return unsupported_dtype(x.dtype());
  FULCRUM_ASSIGN_OR_RETURN(LossLayout l, loss_layout(x, ctx.input(1), "input"));
  return write_loss(ctx, l, read_doubles(x), x.dtype());
}

// Inputs: scores, labels, weights (optional). Outputs: loss, log_prob (optional), the
// log-softmax of the scores along the class axis.
Status softmax_cross_entropy_loss(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32 && x.dtype() != DType::kFloat64) return unsupported_dtype(x.dtype());
  FULCRUM_ASSIGN_OR_RETURN(LossLayout l, loss_layout(x, ctx.input(1), "scores"));
  std::vector<double> log_prob = read_doubles(x);
  for (int64_t n = 0; n < l.n; ++n)
    for (int64_t d = 0; d < l.positions; ++d) {
      auto at = [&](int64_t c) -> double& {
        return log_prob[static_cast<size_t>((n * l.classes + c) * l.positions + d)];
      };
      double max = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t c = 0; c < l.classes; ++c) max = std::max(max, at(c));
      for (int64_t c = 0; c < l.classes; ++c) sum += std::exp(at(c) - max);
      const double log_sum = std::log(sum);
      for (int64_t c = 0; c < l.classes; ++c) at(c) = at(c) - max - log_sum;
    }
  FULCRUM_RETURN_IF_ERROR(write_loss(ctx, l, log_prob, x.dtype()));
  if (ctx.wants_output(1)) return write_doubles(ctx, 1, x.dtype(), x.shape(), log_prob);
  return Status::ok();
}

FULCRUM_REFERENCE_KERNEL(NegativeLogLikelihoodLoss, nll_loss);
FULCRUM_REFERENCE_KERNEL(SoftmaxCrossEntropyLoss, softmax_cross_entropy_loss);

}  // namespace
}  // namespace fulcrum::backends::reference
