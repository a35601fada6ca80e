// The op registry. Each op family's file (src/ops/<family>.cc) registers, per op: its
// name, the opset range it covers, its traits, and how its attributes become a typed
// struct. There is no central table: adding an op touches its family's file only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"
#include "ops/attributes.h"

namespace fulcrum::ops {

// Properties passes match on ("conv + any epilogue-fusable op" is one rule).
enum Trait : uint32_t {
  kNoTraits = 0,
  kElementwise = 1u << 0,      // output[i] depends on input[i] only (with broadcasting)
  kEpilogueFusable = 1u << 1,  // can run as a post-op of conv/gemm/matmul
  kShapeOnly = 1u << 2,        // moves or reinterprets data, computes nothing
  kReduction = 1u << 3,
  kQuantization = 1u << 4,       // QuantizeLinear / DequantizeLinear and friends
  kDataDependentShape = 1u << 5  // output shape depends on input values (NonZero, ...)
};

// Base of every op's typed attribute struct.
struct OpAttrs {
  virtual ~OpAttrs() = default;
};

using AttrParser = std::function<Result<std::shared_ptr<const OpAttrs>>(const Attributes&, int64_t opset)>;

struct OpSchema {
  std::string name;       // ONNX op_type
  std::string domain;     // "" for the default ONNX domain
  int64_t min_opset = 1;  // oldest opset version whose semantics the entry implements
  uint32_t traits = kNoTraits;
  AttrParser parse;  // null: the op has no attributes we read
};

// The schema for an op, or nullptr.
const OpSchema* find_schema(std::string_view domain, std::string_view name);
// Every registered schema, sorted by domain then name.
std::vector<const OpSchema*> all_schemas();

// Registers at static-initialisation time: `static const OpRegistrar reg({...});`
struct OpRegistrar {
  explicit OpRegistrar(OpSchema schema);
};

// An op with no attributes of its own.
inline Result<std::shared_ptr<const OpAttrs>> no_attrs(const Attributes&, int64_t) {
  return std::shared_ptr<const OpAttrs>(std::make_shared<OpAttrs>());
}

// Adapts `void fill(AttrReader&, int64_t opset, T&)` into an AttrParser: the reader
// collects the first error, which the parser returns.
template <class T>
AttrParser attr_parser(void (*fill)(AttrReader&, int64_t opset, T&)) {
  return [fill](const Attributes& attrs, int64_t opset) -> Result<std::shared_ptr<const OpAttrs>> {
    AttrReader r(attrs);
    auto out = std::make_shared<T>();
    fill(r, opset, *out);
    if (!r.status().is_ok()) return r.status();
    return std::shared_ptr<const OpAttrs>(std::move(out));
  };
}

}  // namespace fulcrum::ops
