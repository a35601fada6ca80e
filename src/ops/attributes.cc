#include "ops/attributes.h"

#include "core/error.h"

namespace fulcrum::ops {

std::string attr_kind_name(const AttrValue& value) {
  static constexpr const char* kNames[] = {"int", "float", "string", "tensor", "ints", "floats", "strings"};
  if (const auto* opaque = std::get_if<OpaqueAttr>(&value)) return opaque->kind;
  return kNames[value.index()];
}

template <class T>
const T* AttrReader::get(const std::string& name, const char* want) {
  auto it = attrs_.find(name);
  if (it == attrs_.end() || !status_.is_ok()) return nullptr;
  const T* v = std::get_if<T>(&it->second);
  if (v == nullptr)
    status_ = invalid_argument("attribute '{}' must be {}, got {}", name, want, attr_kind_name(it->second));
  return v;
}

int64_t AttrReader::i(const std::string& name, int64_t fallback) {
  const auto* v = get<int64_t>(name, "int");
  return v ? *v : fallback;
}

float AttrReader::f(const std::string& name, float fallback) {
  // Some exporters write float attributes as ints; ONNX says float, but accept both.
  auto it = attrs_.find(name);
  if (it != attrs_.end())
    if (const auto* iv = std::get_if<int64_t>(&it->second)) return static_cast<float>(*iv);
  const auto* v = get<float>(name, "float");
  return v ? *v : fallback;
}

std::string AttrReader::s(const std::string& name, const std::string& fallback) {
  const auto* v = get<std::string>(name, "string");
  return v ? *v : fallback;
}

std::vector<int64_t> AttrReader::ints(const std::string& name, std::vector<int64_t> fallback) {
  const auto* v = get<std::vector<int64_t>>(name, "ints");
  return v ? *v : fallback;
}

std::vector<float> AttrReader::floats(const std::string& name, std::vector<float> fallback) {
  const auto* v = get<std::vector<float>>(name, "floats");
  return v ? *v : fallback;
}

std::vector<std::string> AttrReader::strings(const std::string& name, std::vector<std::string> fallback) {
  const auto* v = get<std::vector<std::string>>(name, "strings");
  return v ? *v : fallback;
}

Tensor AttrReader::tensor(const std::string& name) {
  const auto* v = get<Tensor>(name, "tensor");
  return v ? *v : Tensor();
}

void AttrReader::require(const std::string& name) {
  if (status_.is_ok() && !has(name)) status_ = invalid_argument("required attribute '{}' is missing", name);
}

void AttrReader::check(bool ok, const std::string& message) {
  if (status_.is_ok() && !ok) status_ = invalid_argument("{}", message);
}

}  // namespace fulcrum::ops
