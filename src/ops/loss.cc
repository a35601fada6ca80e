#include "ops/loss.h"

namespace fulcrum::ops {
namespace {

void fill_loss(AttrReader& r, int64_t, LossAttrs& a) {
  const std::string reduction = r.s("reduction", "mean");
  if (reduction == "none")
    a.reduction = LossReduction::kNone;
  else if (reduction == "sum")
    a.reduction = LossReduction::kSum;
  else if (reduction == "mean")
    a.reduction = LossReduction::kMean;
  else
    r.check(false, "attribute 'reduction' must be 'none', 'sum' or 'mean', got '" + reduction + "'");
  if (r.has("ignore_index")) a.ignore_index = r.i("ignore_index", 0);
}

const OpRegistrar kNll({"NegativeLogLikelihoodLoss", "", 12, kNoTraits, attr_parser(fill_loss)});
const OpRegistrar kSce({"SoftmaxCrossEntropyLoss", "", 12, kNoTraits, attr_parser(fill_loss)});

}  // namespace
}  // namespace fulcrum::ops
