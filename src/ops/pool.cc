#include "ops/pool.h"

namespace fulcrum::ops {
namespace {

void fill_pool(AttrReader& r, int64_t, PoolAttrs& a) {
  fill_window_attrs(r, a);
  r.require("kernel_shape");
  a.ceil_mode = r.i("ceil_mode", 0) != 0;
  a.count_include_pad = r.i("count_include_pad", 0) != 0;
  a.storage_order = r.i("storage_order", 0);
  r.check(a.storage_order == 0 || a.storage_order == 1, "attribute 'storage_order' must be 0 or 1");
  // LpPool-1 wrote p as a float, later versions as an int; AttrReader::f accepts both.
  a.p = r.f("p", 2.0f);
  r.check(a.p > 0, "attribute 'p' must be positive");
}

void fill_global_lp(AttrReader& r, int64_t, PoolAttrs& a) {
  a.p = r.f("p", 2.0f);
  r.check(a.p > 0, "attribute 'p' must be positive");
}

void fill_unpool(AttrReader& r, int64_t, WindowAttrs& a) {
  fill_window_attrs(r, a);
  r.require("kernel_shape");
}

const OpRegistrar kMaxPool({"MaxPool", "", 1, kNoTraits, attr_parser(fill_pool)});
const OpRegistrar kAveragePool({"AveragePool", "", 1, kNoTraits, attr_parser(fill_pool)});
const OpRegistrar kLpPool({"LpPool", "", 1, kNoTraits, attr_parser(fill_pool)});
const OpRegistrar kGlobalAveragePool({"GlobalAveragePool", "", 1, kReduction, nullptr});
const OpRegistrar kGlobalMaxPool({"GlobalMaxPool", "", 1, kReduction, nullptr});
const OpRegistrar kGlobalLpPool({"GlobalLpPool", "", 1, kReduction, attr_parser(fill_global_lp)});
const OpRegistrar kMaxUnpool({"MaxUnpool", "", 9, kNoTraits, attr_parser(fill_unpool)});

}  // namespace
}  // namespace fulcrum::ops
