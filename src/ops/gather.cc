#include "ops/gather.h"

#include <string>

namespace fulcrum::ops {
namespace {

void fill_gather(AttrReader& r, int64_t, GatherAttrs& a) { a.axis = r.i("axis", 0); }

void fill_gather_nd(AttrReader& r, int64_t, GatherNDAttrs& a) {
  a.batch_dims = r.i("batch_dims", 0);
  r.check(a.batch_dims >= 0, "attribute 'batch_dims' must be non-negative");
}

ScatterReduction read_reduction(AttrReader& r) {
  const std::string s = r.s("reduction", "none");
  if (s == "none") return ScatterReduction::kNone;
  if (s == "add") return ScatterReduction::kAdd;
  if (s == "mul") return ScatterReduction::kMul;
  if (s == "max") return ScatterReduction::kMax;
  if (s == "min") return ScatterReduction::kMin;
  r.check(false, "attribute 'reduction' must be none, add, mul, max or min, got '" + s + "'");
  return ScatterReduction::kNone;
}

void fill_scatter_elements(AttrReader& r, int64_t, ScatterElementsAttrs& a) {
  a.axis = r.i("axis", 0);
  a.reduction = read_reduction(r);
}

void fill_scatter_nd(AttrReader& r, int64_t, ScatterNDAttrs& a) { a.reduction = read_reduction(r); }

const OpRegistrar kGather({"Gather", "", 1, kNoTraits, attr_parser(fill_gather)});
const OpRegistrar kGatherElements({"GatherElements", "", 11, kNoTraits, attr_parser(fill_gather)});
const OpRegistrar kGatherND({"GatherND", "", 11, kNoTraits, attr_parser(fill_gather_nd)});
const OpRegistrar kScatterElements({"ScatterElements", "", 11, kNoTraits, attr_parser(fill_scatter_elements)});
// Scatter (opset 9-10) is ScatterElements without a reduction; deprecated from opset 11.
const OpRegistrar kScatter({"Scatter", "", 9, kNoTraits, attr_parser(fill_scatter_elements)});
const OpRegistrar kScatterND({"ScatterND", "", 11, kNoTraits, attr_parser(fill_scatter_nd)});

}  // namespace
}  // namespace fulcrum::ops
