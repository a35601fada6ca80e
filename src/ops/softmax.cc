#include "ops/softmax.h"

namespace fulcrum::ops {
namespace {

void fill_softmax(AttrReader& r, int64_t opset, SoftmaxAttrs& a) {
  a.coerce_2d = opset < 13;
  a.axis = r.i("axis", a.coerce_2d ? 1 : -1);
}

const OpRegistrar kSoftmax({"Softmax", "", 1, kNoTraits, attr_parser(fill_softmax)});
const OpRegistrar kLogSoftmax({"LogSoftmax", "", 1, kNoTraits, attr_parser(fill_softmax)});
const OpRegistrar kHardmax({"Hardmax", "", 1, kNoTraits, attr_parser(fill_softmax)});

}  // namespace
}  // namespace fulcrum::ops
