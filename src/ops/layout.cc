#include "ops/layout.h"

#include "core/error.h"
#include "ops/fused.h"

namespace fulcrum::ops {
namespace {

Result<std::shared_ptr<const OpAttrs>> parse_blocked_pool(const Attributes& attrs, int64_t) {
  auto out = std::make_shared<BlockedPoolAttrs>();
  for (const auto& [key, value] : attrs) {
    if (key == "pool") {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) return invalid_argument("attribute 'pool' must be a string");
      out->pool = *s;
    } else if (key == "pool_opset") {
      const auto* i = std::get_if<int64_t>(&value);
      if (i == nullptr) return invalid_argument("attribute 'pool_opset' must be an int");
      out->pool_opset = *i;
    } else {
      out->pool_raw.emplace(key, value);
    }
  }
  if (out->pool != "MaxPool" && out->pool != "AveragePool" && out->pool != "GlobalAveragePool")
    return invalid_argument("attribute 'pool' must be MaxPool, AveragePool or GlobalAveragePool, got \"{}\"",
                            out->pool);
  const OpSchema* schema = find_schema("", out->pool);
  if (schema == nullptr) return internal_error("no schema for {}", out->pool);
  auto parsed = schema->parse(out->pool_raw, out->pool_opset);
  if (!parsed.is_ok()) return parsed.status();
  out->pool_attrs = std::move(parsed).value();
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

void fill_to_blocked(AttrReader& r, int64_t, ReorderToBlockedAttrs& a) {
  a.block = r.i("block", 8);
  r.check(a.block == 8 || a.block == 16, "attribute 'block' must be 8 or 16, got " + std::to_string(a.block));
}

const OpRegistrar kToBlocked({"ReorderToBlocked", kFulcrumDomain, 1, kShapeOnly, attr_parser(fill_to_blocked)});
const OpRegistrar kFromBlocked({"ReorderFromBlocked", kFulcrumDomain, 1, kShapeOnly, nullptr});
const OpRegistrar kBlockedPool({"BlockedPool", kFulcrumDomain, 1, kNoTraits, parse_blocked_pool});
const OpRegistrar kNhwcPool({"NhwcPool", kFulcrumDomain, 1, kNoTraits, parse_blocked_pool});

}  // namespace
}  // namespace fulcrum::ops
