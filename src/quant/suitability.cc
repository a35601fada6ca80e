#include "quant/suitability.h"

#include "quant/calib_cache.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"

namespace fulcrum::quant {
namespace {

// Whether `sigmoid` (a Sigmoid layer) is the gate of SiLU/Swish: a Mul of its input and output.
bool is_silu_gate(const LayerDesc& sigmoid, const std::multimap<std::string, const LayerDesc*>& consumers) {
  const std::string& x = sigmoid.inputs[0];
  const std::string& s = sigmoid.outputs[0];
  auto [begin, end] = consumers.equal_range(s);
  for (auto it = begin; it != end; ++it) {
    const LayerDesc& mul = *it->second;
    if (mul.op_type != "Mul" || !mul.domain.empty() || mul.inputs.size() != 2) continue;
    if ((mul.inputs[0] == x && mul.inputs[1] == s) || (mul.inputs[0] == s && mul.inputs[1] == x)) return true;
  }
  return false;
}

const Histogram* histogram_of(const std::string& tensor, const TensorStats& stats, const Calibrator* histograms) {
  if (stats.histogram) return &*stats.histogram;
  if (histograms == nullptr) return nullptr;
  const TensorStats* other = histograms->stats(tensor);
  return other != nullptr && other->histogram ? &*other->histogram : nullptr;
}

void check_outliers(const std::string& tensor, const Histogram& h, float amax, std::vector<SuitabilityWarning>& out) {
  const double max_abs = h.max_abs();
  const double p = percentile_amax(h, kOutlierPercentile);
  if (max_abs == 0.0 || max_abs <= kOutlierRatio * p) return;
  // Entropy calibration usually clips such outliers, but not always: when 99.99% of the values
  // fit in the first few of the 2048 bins, the KL search cannot resolve them and keeps the max.
  const bool clipped = amax <= kOutlierRatio * p;
  out.push_back({tensor, SuitabilityKind::kOutliers,
                 fmt::format("tensor '{}': outliers: max |x| {:.4g} is {:.0f}x its {}th percentile {:.4g}, so an "
                             "amax at the max leaves {:.1f} of the 127 INT8 levels to 99.99% of the values; {}",
                             tensor, max_abs, max_abs / p, kOutlierPercentile, p, 127.0 * p / max_abs,
                             clipped ? fmt::format("the calibrated amax {:.4g} clips the outliers (if they matter, "
                                                   "keep the layers using it in FP16/FP32 with --layer-precisions)",
                                                   amax)
                                     : fmt::format("the calibrated amax {:.4g} keeps them: calibrate with "
                                                   "percentile, or keep the layers using it in FP16/FP32 with "
                                                   "--layer-precisions",
                                                   amax))});
}

void check_all_zero(const std::string& tensor, const TensorStats& stats, std::vector<SuitabilityWarning>& out) {
  if (stats.max_abs != 0.0f || stats.count == 0) return;
  out.push_back({tensor, SuitabilityKind::kAllZero,
                 fmt::format("tensor '{}': 0 in all {} calibration values, so its scale is a placeholder (1/127, "
                             "amax 1) that clips anything beyond +-1; calibrate on data that exercises it, or keep "
                             "the layers using it in FP16/FP32 with --layer-precisions",
                             tensor, stats.count)});
}

void check_clipping(const std::string& tensor, const Histogram& h, float amax, std::vector<SuitabilityWarning>& out) {
  const double clipped = share_above(h, amax);
  if (amax <= 0.0f || clipped <= kMaxClippedShare) return;
  out.push_back({tensor, SuitabilityKind::kClipping,
                 fmt::format("tensor '{}': the calibrated amax {:.4g} clips {:.0f}% of the values (max |x| {:.4g}, "
                             "99.99th percentile {:.4g}); try another --calibrator (percentile, mse), or keep the "
                             "layers using it in FP16/FP32 with --layer-precisions",
                             tensor, amax, 100.0 * clipped, h.max_abs(), percentile_amax(h, kOutlierPercentile))});
}

void check_softmax_input(const std::string& tensor, float amax, std::vector<SuitabilityWarning>& out) {
  const double step = amax / 127.0;
  // An additive attention mask (-FLT_MAX where padded) makes the amax meaningless, not large:
  // masked logits vanish in the softmax whatever their step.
  if (step <= kSoftmaxMaxStep || !std::isfinite(amax) || amax >= 1e30f) return;
  out.push_back({tensor, SuitabilityKind::kSoftmaxRange,
                 fmt::format("tensor '{}': Softmax input with amax {:.4g}: the INT8 step of {:.3g} in logits can "
                             "change probability ratios by up to {:.0f}%; keep the layer producing it in FP16/FP32 "
                             "with --layer-precisions",
                             tensor, amax, step, 100.0 * std::expm1(step))});
}

void check_softmax_output(const std::string& tensor, const Histogram& h, float amax,
                          std::vector<SuitabilityWarning>& out) {
  if (amax <= 0.0f) return;
  const double half_step = amax / 254.0;
  const double lost = mass_share_below(h, half_step);
  if (lost <= kSoftmaxMaxLostMass) return;
  out.push_back({tensor, SuitabilityKind::kSoftmaxMass,
                 fmt::format("tensor '{}': Softmax output: {:.0f}% of the probability mass is in values below half "
                             "an INT8 step ({:.3g}, amax {:.3g}), which round to 0; keep the layers using it in "
                             "FP16/FP32 with --layer-precisions",
                             tensor, 100.0 * lost, half_step, amax)});
}

void check_saturation(const std::string& tensor, std::string_view op, double knee, const Histogram& h, float amax,
                      std::vector<SuitabilityWarning>& out) {
  const double share = share_above(h, knee);
  if (share <= kMaxSaturatedShare) return;
  out.push_back({tensor, SuitabilityKind::kSaturation,
                 fmt::format("tensor '{}': {} input saturated: {:.0f}% of the values have |x| > {}, where {} is "
                             "flat, so most of the INT8 range (amax {:.4g}) is spent there; check this layer's INT8 "
                             "accuracy or keep it in FP16/FP32 with --layer-precisions",
                             tensor, op, 100.0 * share, knee, op, amax)});
}

}  // namespace

ModelRoles model_roles(const std::vector<LayerDesc>& layers, const std::vector<std::string>& graph_inputs) {
  std::multimap<std::string, const LayerDesc*> consumers;
  for (const LayerDesc& layer : layers)
    for (const std::string& input : layer.inputs)
      if (!input.empty()) consumers.emplace(input, &layer);
  std::set<std::string> data(graph_inputs.begin(), graph_inputs.end());
  ModelRoles roles;
  for (const LayerDesc& layer : layers) {
    const bool depends_on_data =
        std::any_of(layer.inputs.begin(), layer.inputs.end(), [&](const std::string& t) { return data.count(t) > 0; });
    for (const std::string& output : layer.outputs) (depends_on_data ? data : roles.constants).insert(output);
    if (!layer.domain.empty() || layer.inputs.empty() || layer.outputs.empty()) continue;
    const std::string& op = layer.op_type;
    if (op == "Conv" || op == "ConvTranspose" || op == "MatMul" || op == "Gemm") {
      // INT8 takes the layers with constant weights: their activation input is what quantizes.
      const bool constant_weights = layer.inputs.size() > 1 && data.count(layer.inputs[1]) == 0;
      if (constant_weights && data.count(layer.inputs[0]) > 0) roles.quantized_inputs.insert(layer.inputs[0]);
    } else if (op == "Softmax" || op == "LogSoftmax") {
      roles.softmax_inputs.insert(layer.inputs[0]);
      if (op == "Softmax") roles.softmax_outputs.insert(layer.outputs[0]);
    } else if (op == "Sigmoid") {
      if (!is_silu_gate(layer, consumers)) roles.sigmoid_inputs.insert(layer.inputs[0]);
    } else if (op == "Tanh") {
      roles.tanh_inputs.insert(layer.inputs[0]);
    }
  }
  return roles;
}

std::string_view suitability_kind_name(SuitabilityKind kind) {
  switch (kind) {
    case SuitabilityKind::kOutliers: return "outliers";
    case SuitabilityKind::kSoftmaxRange: return "softmax_range";
    case SuitabilityKind::kSoftmaxMass: return "softmax_mass";
    case SuitabilityKind::kSaturation: return "saturation";
    case SuitabilityKind::kClipping: return "clipping";
    case SuitabilityKind::kAllZero: return "all_zero";
    case SuitabilityKind::kNoHistogram: return "no_histogram";
  }
  return "unknown";
}

double share_above(const Histogram& histogram, double threshold) {
  if (histogram.total() == 0) return 0.0;
  const double width = histogram.bin_width();
  if (width == 0.0) return 0.0;  // every value was 0
  const auto& counts = histogram.counts();
  const double max_abs = histogram.max_abs();
  double above = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    // No value lies above max |x|, so the bin holding it ends there.
    const double lo = static_cast<double>(i) * width, hi = std::min(lo + width, max_abs);
    if (lo >= threshold)
      above += static_cast<double>(counts[i]);
    else if (hi > threshold)
      above += static_cast<double>(counts[i]) * (hi - threshold) / (hi - lo);
  }
  return above / static_cast<double>(histogram.total());
}

double mass_share_below(const Histogram& histogram, double threshold) {
  const double width = histogram.bin_width();
  if (width == 0.0) return 0.0;
  const auto& counts = histogram.counts();
  double below = 0.0, total = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double lo = static_cast<double>(i) * width, count = static_cast<double>(counts[i]);
    total += count * (lo + width / 2);
    if (lo + width <= threshold) {
      below += count * (lo + width / 2);
    } else if (lo < threshold) {
      const double part = threshold - lo;  // the values in [lo, threshold), spread evenly
      below += count * (part / width) * (lo + part / 2);
    }
  }
  return total == 0.0 ? 0.0 : below / total;
}

std::vector<SuitabilityWarning> check_suitability(const Calibrator& calibrator, const ModelRoles& roles,
                                                  const Calibrator* histograms, const CalibrationCache* cache) {
  std::vector<SuitabilityWarning> out;
  bool missing_histogram = false;
  for (const std::string& tensor : calibrator.tensor_names()) {
    if (roles.constants.count(tensor) > 0) continue;
    const TensorStats& stats = *calibrator.stats(tensor);
    float amax = stats.max_abs;
    if (const std::optional<float> cached = cache != nullptr ? cache->amax(tensor) : std::nullopt) {
      amax = *cached;
    } else if (const Result<float> calibrated = calibrator.amax(tensor); calibrated.is_ok()) {
      amax = *calibrated;
    }
    const Histogram* h = histogram_of(tensor, stats, histograms);
    if (h == nullptr) missing_histogram = true;
    check_all_zero(tensor, stats, out);
    if (h != nullptr && roles.quantized_inputs.count(tensor) > 0) {
      check_outliers(tensor, *h, amax, out);
      check_clipping(tensor, *h, amax, out);
    }
    if (roles.softmax_inputs.count(tensor) > 0) check_softmax_input(tensor, amax, out);
    if (h != nullptr && roles.softmax_outputs.count(tensor) > 0) check_softmax_output(tensor, *h, amax, out);
    if (h != nullptr && roles.sigmoid_inputs.count(tensor) > 0)
      check_saturation(tensor, "Sigmoid", kSigmoidKnee, *h, amax, out);
    if (h != nullptr && roles.tanh_inputs.count(tensor) > 0) check_saturation(tensor, "Tanh", kTanhKnee, *h, amax, out);
  }
  if (missing_histogram)
    out.push_back({"", SuitabilityKind::kNoHistogram,
                   fmt::format("the {} calibrator keeps no histograms: outliers, Softmax output underflow and "
                               "Sigmoid/Tanh saturation were not checked (a histogram calibrator such as entropy "
                               "checks them)",
                               calibrator.spec())});
  return out;
}

}  // namespace fulcrum::quant
