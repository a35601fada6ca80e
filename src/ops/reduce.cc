#include "ops/reduce.h"

namespace fulcrum::ops {
namespace {

// ReduceSum took axes as an input from opset 13; the other reductions from opset 18.
template <int64_t kAxesInputOpset>
void fill_reduce(AttrReader& r, int64_t opset, ReduceAttrs& a) {
  a.axes = r.ints("axes");
  a.axes_from_input = opset >= kAxesInputOpset;
  a.keepdims = r.i("keepdims", 1) != 0;
  a.noop_with_empty_axes = r.i("noop_with_empty_axes", 0) != 0;
}

void fill_arg_reduce(AttrReader& r, int64_t, ArgReduceAttrs& a) {
  a.axis = r.i("axis", 0);
  a.keepdims = r.i("keepdims", 1) != 0;
  a.select_last_index = r.i("select_last_index", 0) != 0;
}

void fill_topk(AttrReader& r, int64_t opset, TopKAttrs& a) {
  a.axis = r.i("axis", -1);
  if (opset < 10) {
    r.require("k");
    a.k = r.i("k", -1);
    r.check(a.k >= 0, "attribute 'k' must be non-negative");
  }
  a.largest = r.i("largest", 1) != 0;
  a.sorted = r.i("sorted", 1) != 0;
}

const AttrParser kReduceSumParser = attr_parser(fill_reduce<13>);
const AttrParser kReduceParser = attr_parser(fill_reduce<18>);

const OpRegistrar kReduceSum({"ReduceSum", "", 1, kReduction, kReduceSumParser});
const OpRegistrar kReduceMean({"ReduceMean", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceMax({"ReduceMax", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceMin({"ReduceMin", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceProd({"ReduceProd", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceL1({"ReduceL1", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceL2({"ReduceL2", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceLogSum({"ReduceLogSum", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceLogSumExp({"ReduceLogSumExp", "", 1, kReduction, kReduceParser});
const OpRegistrar kReduceSumSquare({"ReduceSumSquare", "", 1, kReduction, kReduceParser});

const OpRegistrar kArgMax({"ArgMax", "", 1, kReduction, attr_parser(fill_arg_reduce)});
const OpRegistrar kArgMin({"ArgMin", "", 1, kReduction, attr_parser(fill_arg_reduce)});
const OpRegistrar kTopK({"TopK", "", 1, kNoTraits, attr_parser(fill_topk)});

}  // namespace
}  // namespace fulcrum::ops
