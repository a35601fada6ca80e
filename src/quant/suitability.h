// INT8 suitability: what calibration statistics say about tensors that INT8 will serve badly,
// the checks NVIDIA tells TensorRT users to make before trusting an INT8 engine. Each warning
// names the tensor and gives the numbers; none changes a scale. Thresholds were set on the
// trained Fashion-MNIST CNN and ViT (no warning on their 500 calibration images) and checked on
// the random-weight zoo (ResNet-50: none; ViT-small: none; YOLOv5s: 4; BERT-base: 12, all real).
//
// Outliers and clipping are checked on ModelRoles::quantized_inputs only; a constant tensor
// (a weight) is never checked.
//
// outliers      max|x| > kOutlierRatio (10) x the 99.99th percentile of |x|: an amax at the max
//               then leaves under 13 of the 127 levels to 99.99% of the values. Ordinary
//               activations stay far below: max/p99.99 is at most 1.9 (Fashion CNN), 2.2
//               (Fashion ViT), 2.0 (ResNet-50), 2.5 (BERT), 1.8 (YOLOv5s). A ratio of 10 means a
//               few values of another kind (a corrupt sample, an LLM-style outlier feature).
//               Entropy calibration does not always clip them: when 99.99% of the values fit
//               in a few of its 2048 bins it keeps the max, which the message says.
//
// softmax_range Softmax (and LogSoftmax) is invariant to shifts of its input and sensitive to
//               absolute differences: an error of d in one logit scales that probability by
//               e^d. INT8 covers [-amax, amax] in steps of amax/127 whatever the row's spread,
//               so with rounding error up to step/2 on two logits, the ratio of their
//               probabilities is off by up to e^step. The check warns when step >
//               kSoftmaxMaxStep (0.1 logit, i.e. ratios off by >10%, amax > 12.7): the
//               INT8 range is then too small, relative to the logits' magnitude, to resolve
//               the differences softmax acts on ("tiny dynamic range"). Measured: the Fashion
//               ViT's attention logits reach amax 8.6 (step 0.067), BERT's 1.6.
//
// softmax_mass  Softmax outputs: the share of probability mass (sum of the values, not their
//               count) below half a step, which INT8 rounds to 0. Attention over many tokens
//               produces many small probabilities; when more than kSoftmaxMaxLostMass (25%) of
//               the mass vanishes, the weighted sum after it (attention x V) shrinks and loses
//               the context it averages over. Measured: at most 1.1% on the Fashion ViT.
//
// saturation    Sigmoid/Tanh inputs beyond the knee (|x| > 4 for sigmoid, > 2 for tanh, where
//               the slope has fallen to 7% of its peak; tanh(x) = 2 sigmoid(2x) - 1, so these
//               are the same point) in more than kMaxSaturatedShare (50%) of the values. The
//               calibrated range is then mostly spent where the output is flat, leaving coarse
//               steps where it moves, and the gate behaves as a switch: a sign that the layer
//               is sensitive to the calibration data. Sigmoids of SiLU/Swish (x * sigmoid(x))
//               are not checked: there saturation is the identity or zero, which INT8 serves well.
//
// clipping      The calibrated amax saturates more than kMaxClippedShare (10%) of the values.
//               Clipping the tail is the point of entropy/percentile/MSE calibration, but on the
//               trained Fashion-MNIST models it never exceeds 0.8% of a tensor (8% at most on the
//               random-weight zoo). Far more means the threshold cut into the bulk:
//               EntropyCalibration2 does this on distributions concentrated away from 0, where
//               its first candidate (128 of 2048 bins) already has zero divergence: YOLOv5s's
//               input images (17% clipped), BERT's near-uniform attention probabilities (100%,
//               amax a quarter of their mean); also SiLU's sigmoid outputs and decomposed
//               LayerNorm variances, which are not quantized inputs and so not reported.
//
// all_zero      A tensor that was 0 on every calibration sample: its scale is the cache's
//               placeholder (TensorRT's 1/127, amax 1), not a measurement. Typical of
//               unrepresentative data, e.g. a BERT attention-mask bias calibrated on unpadded
//               sequences, which then clips the -10000 of padded ones to -1 and unmasks them.
//
// no_histogram  One warning (tensor "") when the calibrator keeps no histograms (MinMax) and
//               none was given: the outlier and saturation checks were skipped.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/network.h"
#include "quant/calibrator.h"

namespace fulcrum::quant {

class CalibrationCache;

inline constexpr double kOutlierRatio = 10.0;
inline constexpr double kOutlierPercentile = 99.99;
inline constexpr double kMaxClippedShare = 0.10;
inline constexpr double kSoftmaxMaxStep = 0.1;
inline constexpr double kSoftmaxMaxLostMass = 0.25;
inline constexpr double kSigmoidKnee = 4.0;
inline constexpr double kTanhKnee = 2.0;
inline constexpr double kMaxSaturatedShare = 0.5;

// The tensors whose consumers make the distribution checks meaningful, by name.
struct ModelRoles {
  std::set<std::string> softmax_inputs;   // of Softmax and LogSoftmax
  std::set<std::string> softmax_outputs;  // of Softmax (LogSoftmax outputs are logits)
  std::set<std::string> sigmoid_inputs;   // of Sigmoid, except in SiLU/Swish
  std::set<std::string> tanh_inputs;
  // Activation inputs of the layers INT8 computes (Conv, ConvTranspose, MatMul, Gemm with
  // constant weights; an attention MatMul of two activations stays float): the tensors
  // whose scales decide accuracy, and the only ones checked for outliers and clipping. Others
  // (LayerNorm's variance, SiLU's sigmoid) are fused away or stay in float: EntropyCalibration2
  // clips such strictly positive tensors wholesale, and warning about them is noise.
  std::set<std::string> quantized_inputs;
  // Tensors that depend on no graph input (weights passed through Identity, ...): not checked.
  std::set<std::string> constants;
};

// The roles of a network's tensors, from its layers (ONNX nodes, in topological order) and
// the names of its graph inputs.
ModelRoles model_roles(const std::vector<LayerDesc>& layers, const std::vector<std::string>& graph_inputs);

enum class SuitabilityKind { kOutliers, kSoftmaxRange, kSoftmaxMass, kSaturation, kClipping, kAllZero, kNoHistogram };
std::string_view suitability_kind_name(SuitabilityKind kind);

struct SuitabilityWarning {
  std::string tensor;  // "" for kNoHistogram
  SuitabilityKind kind;
  std::string message;  // one line, names the tensor and gives the numbers
};

// The warnings for every tensor `calibrator` observed, in its observation order (the model's
// topological order), outliers before role checks for one tensor. Scales are the calibrator's
// amax; histograms are the calibrator's, or `histograms`'s when it keeps none (a MinMax
// calibrator can be paired with a histogram-keeping one observing the same data). `cache`, when
// given, supplies the calibrated amax (the KL search need not run twice).
std::vector<SuitabilityWarning> check_suitability(const Calibrator& calibrator, const ModelRoles& roles,
                                                  const Calibrator* histograms = nullptr,
                                                  const CalibrationCache* cache = nullptr);

// Statistics the checks use, on a |x| histogram; exposed for tests.
// The share of values with |x| > threshold, the bin straddling it split linearly (over
// [lower edge, max |x|] for the last one).
double share_above(const Histogram& histogram, double threshold);
// The share of sum(|x|) held by values with |x| < threshold, the straddling bin split linearly
// (values spread evenly over a bin).
double mass_share_below(const Histogram& histogram, double threshold);

}  // namespace fulcrum::quant
