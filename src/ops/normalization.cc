#include "ops/normalization.h"

namespace fulcrum::ops {
namespace {

void fill_batch_norm(AttrReader& r, int64_t opset, BatchNormAttrs& a) {
  a.epsilon = r.f("epsilon", 1e-5f);
  a.momentum = r.f("momentum", 0.9f);
  if (opset < 7) a.training_mode = r.i("is_test", 0) == 0;
  if (opset < 9) a.spatial = r.i("spatial", 1) != 0;
  if (opset >= 14) a.training_mode = r.i("training_mode", 0) != 0;
  // Opsets 7-13 choose training mode by the number of outputs, which the kernel sees.
}

void fill_epsilon(AttrReader& r, int64_t, EpsilonAttrs& a) { a.epsilon = r.f("epsilon", 1e-5f); }

void fill_layer_norm(AttrReader& r, int64_t, LayerNormAttrs& a) {
  a.axis = r.i("axis", -1);
  a.epsilon = r.f("epsilon", 1e-5f);
  const int64_t stash = r.i("stash_type", 1);
  // ONNX TensorProto codes: 1 float, 11 double.
  r.check(stash == 1 || stash == 11, "attribute 'stash_type' must be 1 (float) or 11 (double)");
  a.stash_dtype = stash == 11 ? DType::kFloat64 : DType::kFloat32;
}

void fill_lrn(AttrReader& r, int64_t, LrnAttrs& a) {
  r.require("size");
  a.alpha = r.f("alpha", 1e-4f);
  a.beta = r.f("beta", 0.75f);
  a.bias = r.f("bias", 1.0f);
  a.size = r.i("size", 1);
  r.check(a.size > 0, "attribute 'size' must be positive");
}

void fill_mvn(AttrReader& r, int64_t, MeanVarianceNormAttrs& a) { a.axes = r.ints("axes", {0, 2, 3}); }

void fill_dropout(AttrReader& r, int64_t opset, DropoutAttrs& a) {
  if (opset < 12) a.ratio = r.f("ratio", 0.5f);
  if (opset < 7) a.is_test = r.i("is_test", 0) != 0;
  if (opset >= 12 && r.has("seed")) {
    a.has_seed = true;
    a.seed = r.i("seed", 0);
  }
}

const OpRegistrar kBatchNorm({"BatchNormalization", "", 6, kNoTraits, attr_parser(fill_batch_norm)});
const OpRegistrar kInstanceNorm({"InstanceNormalization", "", 1, kNoTraits, attr_parser(fill_epsilon)});
const OpRegistrar kLayerNorm({"LayerNormalization", "", 17, kNoTraits, attr_parser(fill_layer_norm)});
const OpRegistrar kLrn({"LRN", "", 1, kNoTraits, attr_parser(fill_lrn)});
const OpRegistrar kMvn({"MeanVarianceNormalization", "", 9, kNoTraits, attr_parser(fill_mvn)});
const OpRegistrar kDropout({"Dropout", "", 1, kNoTraits, attr_parser(fill_dropout)});

}  // namespace
}  // namespace fulcrum::ops
