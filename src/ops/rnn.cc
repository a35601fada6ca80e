#include "ops/rnn.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

struct ActivationInfo {
  RnnActivationKind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;  // the defaults of the ONNX op of the same name
};

// Keyed by lower-case name: ONNX spells them "Tanh", exporters sometimes "tanh". Defaults are
// the ONNX ops' (Affine and ScaledTanh from the retired experimental ops, ScaledTanh's being
// unspecified there, so 1, 1: plain tanh); onnxruntime instead defaults Affine,
// ThresholdedRelu and ScaledTanh to 0.
const std::map<std::string, ActivationInfo>& activation_table() {
  using K = RnnActivationKind;
  static const std::map<std::string, ActivationInfo> table{
      {"relu", {K::kRelu, false, false, 0.0f, 0.0f}},
      {"tanh", {K::kTanh, false, false, 0.0f, 0.0f}},
      {"sigmoid", {K::kSigmoid, false, false, 0.0f, 0.0f}},
      {"affine", {K::kAffine, true, true, 1.0f, 0.0f}},
      {"leakyrelu", {K::kLeakyRelu, true, false, 0.01f, 0.0f}},
      {"thresholdedrelu", {K::kThresholdedRelu, true, false, 1.0f, 0.0f}},
      {"scaledtanh", {K::kScaledTanh, true, true, 1.0f, 1.0f}},
      {"hardsigmoid", {K::kHardSigmoid, true, true, 0.2f, 0.5f}},
      {"elu", {K::kElu, true, false, 1.0f, 0.0f}},
      {"softsign", {K::kSoftsign, false, false, 0.0f, 0.0f}},
      {"softplus", {K::kSoftplus, false, false, 0.0f, 0.0f}},
  };
  return table;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Resolves `activations` with activation_alpha/activation_beta. The alpha and beta lists are
// consumed in the order of the activations that take them; missing ones take the ONNX op's
// default. A single set of activations for a bidirectional op serves both directions, as
// onnxruntime accepts.
void read_activations(AttrReader& r, const std::vector<std::string>& defaults, RecurrentAttrs& a) {
  const size_t per_direction = defaults.size(), directions = static_cast<size_t>(a.num_directions());
  std::vector<std::string> names = r.strings("activations", {});
  if (names.empty())
    for (size_t d = 0; d < directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  const bool shared = directions == 2 && names.size() == per_direction;
  if (names.size() != per_direction * directions && !shared) {
    r.check(false, fmt::format("attribute 'activations' has {} entries, expected {} ({} per direction)", names.size(),
                               per_direction * directions, per_direction));
    return;
  }
  const std::vector<float> alphas = r.floats("activation_alpha", {});
  const std::vector<float> betas = r.floats("activation_beta", {});
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    auto it = activation_table().find(lower(name));
    if (it == activation_table().end()) {
      r.check(false, fmt::format("attribute 'activations' has unknown activation '{}'", name));
      return;
    }
    const ActivationInfo& info = it->second;
    RnnActivation act{info.kind, info.default_alpha, info.default_beta};
    if (info.uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (info.uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    a.activations.push_back(act);
  }
  if (shared) {
    const std::vector<RnnActivation> forward = a.activations;
    a.activations.insert(a.activations.end(), forward.begin(), forward.end());
  }
}

void fill_recurrent(AttrReader& r, int64_t opset, const std::vector<std::string>& default_activations,
                    RecurrentAttrs& a) {
  if (r.has("hidden_size")) {
    a.hidden_size = r.i("hidden_size", 0);
    r.check(a.hidden_size > 0, "attribute 'hidden_size' must be positive");
  }
  const std::string direction = r.s("direction", "forward");
  if (direction == "forward") {
    a.direction = RnnDirection::kForward;
  } else if (direction == "reverse") {
    a.direction = RnnDirection::kReverse;
  } else if (direction == "bidirectional") {
    a.direction = RnnDirection::kBidirectional;
  } else {
    r.check(false, fmt::format("attribute 'direction' must be forward, reverse or bidirectional, got '{}'", direction));
  }
  if (r.has("clip")) {
    a.clip = r.f("clip", 0.0f);
    r.check(*a.clip > 0.0f, "attribute 'clip' must be positive");
  }
  if (opset >= 14) {
    const int64_t layout = r.i("layout", 0);
    r.check(layout == 0 || layout == 1, "attribute 'layout' must be 0 or 1");
    a.batch_first = layout == 1;
  }
  read_activations(r, default_activations, a);
}

void fill_rnn(AttrReader& r, int64_t opset, RnnAttrs& a) { fill_recurrent(r, opset, {"Tanh"}, a); }

void fill_gru(AttrReader& r, int64_t opset, GruAttrs& a) {
  fill_recurrent(r, opset, {"Sigmoid", "Tanh"}, a);
  a.linear_before_reset = r.i("linear_before_reset", 0) != 0;
}

void fill_lstm(AttrReader& r, int64_t opset, LstmAttrs& a) {
  fill_recurrent(r, opset, {"Sigmoid", "Tanh", "Tanh"}, a);
  a.input_forget = r.i("input_forget", 0) != 0;
}

// Opset 7 dropped opset 1's output_sequence attribute (and GRU's opset 3 is opset 1 plus
// linear_before_reset); the older versions are left unsupported.
const OpRegistrar kRnn({"RNN", "", 7, kNoTraits, attr_parser(fill_rnn)});
const OpRegistrar kGru({"GRU", "", 7, kNoTraits, attr_parser(fill_gru)});
const OpRegistrar kLstm({"LSTM", "", 7, kNoTraits, attr_parser(fill_lstm)});

}  // namespace
}  // namespace fulcrum::ops
