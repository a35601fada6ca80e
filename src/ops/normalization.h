// Normalization ops (BatchNormalization, InstanceNormalization, LayerNormalization, LRN,
// MeanVarianceNormalization) and Dropout, the other layer whose behaviour differs between
// training and inference.
#pragma once

#include <vector>

#include "fulcrum/tensor.h"
#include "ops/registry.h"

namespace fulcrum::ops {

struct BatchNormAttrs : OpAttrs {
  float epsilon = 1e-5f;
  float momentum = 0.9f;
  // Opset 14+: normalise with the batch's own statistics and output the updated running
  // statistics. Before opset 14 the mode came from is_test (opset 6) or from the number of
  // outputs (opsets 7-13); training_mode folds either into one flag.
  bool training_mode = false;
  // Opsets 6-8: spatial=0 means scale/bias/mean/var have one value per activation
  // (shape C x D1 x ... x Dn) instead of one per channel.
  bool spatial = true;
};

// InstanceNormalization.
struct EpsilonAttrs : OpAttrs {
  float epsilon = 1e-5f;
};

struct LayerNormAttrs : OpAttrs {
  int64_t axis = -1;
  float epsilon = 1e-5f;
  // Dtype of the Mean and InvStdDev outputs (the ONNX stash_type; computation itself is in
  // double in the reference backend).
  DType stash_dtype = DType::kFloat32;
};

struct LrnAttrs : OpAttrs {
  float alpha = 1e-4f;
  float beta = 0.75f;
  float bias = 1.0f;
  int64_t size = 0;  // required, positive
};

struct MeanVarianceNormAttrs : OpAttrs {
  std::vector<int64_t> axes{0, 2, 3};
};

struct DropoutAttrs : OpAttrs {
  float ratio = 0.5f;     // before opset 12; later an input
  bool is_test = true;    // opsets 1-6 only; false (training) is unsupported there
  bool has_seed = false;  // opset 12+
  int64_t seed = 0;
};

}  // namespace fulcrum::ops
