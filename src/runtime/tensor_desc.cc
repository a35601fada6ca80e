#include "runtime/tensor_desc.h"

#include "core/error.h"

namespace fulcrum::runtime {

TensorDesc describe(const ir::Value& value) {
  TensorDesc d;
  d.name = value.name();
  d.dtype = value.type.dtype;
  d.has_shape = value.type.dims.has_value();
  if (value.type.dims) {
    for (const ir::Dim& dim : *value.type.dims) {
      d.shape.push_back(dim.value);
      d.dim_names.push_back(dim.param);
    }
  }
  return d;
}

namespace {

std::string declared_shape(const TensorDesc& d) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < d.shape.size(); ++i)
    parts.push_back(d.shape[i] >= 0 ? std::to_string(d.shape[i]) : (d.dim_names[i].empty() ? "?" : d.dim_names[i]));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

// A symbolic dimension binds one value across inputs only if it has a real name: exporters
// write "?" (Paddle) or "unk__N" (symbolic shape inference) for dimensions that are merely unknown.
bool is_named_dim(const std::string& name) { return !name.empty() && name != "?" && name.rfind("unk__", 0) != 0; }

}  // namespace

Result<std::vector<Tensor>> bind_inputs(const std::vector<TensorDesc>& declared,
                                        const std::vector<NamedTensor>& inputs) {
  std::map<std::string, const Tensor*> given;
  for (const NamedTensor& in : inputs) {
    bool known = false;
    for (const TensorDesc& d : declared) known = known || d.name == in.name;
    if (!known) {
      std::vector<std::string> names;
      for (const TensorDesc& d : declared) names.push_back(d.name);
      return invalid_argument("'{}' is not an input of the model (its inputs: {})", in.name, fmt::join(names, ", "));
    }
    if (!given.emplace(in.name, &in.tensor).second) return invalid_argument("input '{}' is given twice", in.name);
  }
  std::map<std::string, int64_t> symbols;
  std::vector<Tensor> out;
  for (const TensorDesc& d : declared) {
    auto it = given.find(d.name);
    if (it == given.end())
      return invalid_argument("input '{}' ({}{}) is not given", d.name, dtype_name(d.dtype), declared_shape(d));
    const Tensor& t = *it->second;
    if (t.dtype() != d.dtype)
      return invalid_argument("input '{}' must be {}, got {}", d.name, dtype_name(d.dtype), dtype_name(t.dtype()));
    if (d.has_shape) {
      if (t.rank() != static_cast<int64_t>(d.shape.size()))
        return invalid_argument("input '{}' must have shape {}, got {} (rank {} instead of {})", d.name,
                                declared_shape(d), shape_to_string(t.shape()), t.rank(), d.shape.size());
      for (size_t i = 0; i < d.shape.size(); ++i) {
        int64_t got = t.shape()[i];
        if (d.shape[i] >= 0 && got != d.shape[i])
          return invalid_argument("input '{}' must have shape {}, got {} (dimension {} is {}, not {})", d.name,
                                  declared_shape(d), shape_to_string(t.shape()), i, got, d.shape[i]);
        if (d.shape[i] < 0 && is_named_dim(d.dim_names[i])) {
          auto [sym, inserted] = symbols.emplace(d.dim_names[i], got);
          if (!inserted && sym->second != got)
            return invalid_argument("input '{}': dimension '{}' is {} here but {} in another input", d.name,
                                    d.dim_names[i], got, sym->second);
        }
      }
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace fulcrum::runtime
