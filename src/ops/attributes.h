// ONNX-style attributes as typed values, and AttrReader, which turns them into an op's
// typed attribute struct with one clear error for a missing or mistyped attribute.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::ops {

// An attribute of a kind no op we run reads (a subgraph of If/Loop/Scan, a list of
// tensors...): recorded so the node can be named as unsupported, never executed.
struct OpaqueAttr {
  std::string kind;  // "graph", "graphs", "tensors", "sparse_tensor", "type_proto"
};

using AttrValue = std::variant<int64_t, float, std::string, Tensor, std::vector<int64_t>, std::vector<float>,
                               std::vector<std::string>, OpaqueAttr>;

// Attribute name -> value, sorted by name.
using Attributes = std::map<std::string, AttrValue>;

// "int", "float", "string", "tensor", "ints", "floats", "strings", or an opaque kind
std::string attr_kind_name(const AttrValue& value);

// Reads typed attributes. The first problem (wrong kind, value out of range) is kept and
// returned by status(); later reads then return their defaults.
class AttrReader {
 public:
  explicit AttrReader(const Attributes& attrs) : attrs_(attrs) {}

  bool has(const std::string& name) const { return attrs_.count(name) != 0; }
  int64_t i(const std::string& name, int64_t fallback);
  float f(const std::string& name, float fallback);
  std::string s(const std::string& name, const std::string& fallback);
  std::vector<int64_t> ints(const std::string& name, std::vector<int64_t> fallback = {});
  std::vector<float> floats(const std::string& name, std::vector<float> fallback = {});
  std::vector<std::string> strings(const std::string& name, std::vector<std::string> fallback = {});
  Tensor tensor(const std::string& name);
  // Records an error unless `name` is present.
  void require(const std::string& name);
  // Records an error unless `ok`; for range checks: r.check(group > 0, "group must be positive").
  void check(bool ok, const std::string& message);

  const Status& status() const { return status_; }

 private:
  template <class T>
  const T* get(const std::string& name, const char* want);

  const Attributes& attrs_;
  Status status_;
};

}  // namespace fulcrum::ops
