#include "ops/misc.h"

#include "core/error.h"

namespace fulcrum::ops {
namespace {

void fill_unique(AttrReader& r, int64_t, UniqueAttrs& a) {
  if (r.has("axis")) a.axis = r.i("axis", 0);
  const int64_t sorted = r.i("sorted", 1);
  r.check(sorted == 0 || sorted == 1, fmt::format("attribute 'sorted' must be 0 or 1, got {}", sorted));
  a.sorted = sorted == 1;
}

const OpRegistrar kUnique({"Unique", "", 11, kDataDependentShape, attr_parser(fill_unique)});
const OpRegistrar kDet({"Det", "", 11, kNoTraits, no_attrs});

}  // namespace
}  // namespace fulcrum::ops
