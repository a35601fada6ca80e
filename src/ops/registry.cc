#include "ops/registry.h"

#include <algorithm>
#include <map>

namespace fulcrum::ops {
namespace {

using Key = std::pair<std::string, std::string>;

std::map<Key, OpSchema, std::less<>>& table() {
  static std::map<Key, OpSchema, std::less<>> t;
  return t;
}

}  // namespace

OpRegistrar::OpRegistrar(OpSchema schema) {
  if (!schema.parse) schema.parse = no_attrs;
  Key key{schema.domain, schema.name};
  table()[key] = std::move(schema);
}

const OpSchema* find_schema(std::string_view domain, std::string_view name) {
  // ONNX allows "ai.onnx" as a spelling of the default domain.
  if (domain == "ai.onnx") domain = "";
  auto it = table().find(Key{std::string(domain), std::string(name)});
  return it == table().end() ? nullptr : &it->second;
}

std::vector<const OpSchema*> all_schemas() {
  std::vector<const OpSchema*> out;
  for (const auto& [key, schema] : table()) out.push_back(&schema);
  return out;
}

}  // namespace fulcrum::ops
