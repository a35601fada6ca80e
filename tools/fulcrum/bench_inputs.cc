#include "bench_inputs.h"

#include <cstring>
#include <optional>
#include <random>
#include <set>

namespace fulcrum::cli {
namespace {

Status invalid(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

const char* kShapesSyntax = "expected NAME:D0xD1x..., e.g. input:1x3x224x224";

Result<Shape> parse_dims(const std::string& spec, const std::string& dims) {
  Shape shape;
  size_t start = 0;
  while (true) {
    size_t end = dims.find('x', start);
    std::string dim = dims.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dim.empty() || dim.size() > 12 || dim.find_first_not_of("0123456789") != std::string::npos)
      return invalid("--shapes '" + spec + "': dimension '" + dim + "' is not a non-negative integer (" +
                     kShapesSyntax + ")");
    shape.push_back(std::stoll(dim));
    if (end == std::string::npos) return shape;
    start = end + 1;
  }
}

// Mirrors the engine's rule: exporters write "?" or "unk__N" for dimensions that are merely
// unknown, so only a real name ties a dimension across inputs.
bool is_named_dim(const std::string& name) { return !name.empty() && name != "?" && name.rfind("unk__", 0) != 0; }

std::string dim_text(const TensorDesc& d, size_t i) {
  if (d.shape[i] >= 0) return std::to_string(d.shape[i]);
  return d.dim_names[i].empty() ? "?" : d.dim_names[i];
}

std::string declared_shape(const TensorDesc& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.shape.size(); ++i) s += (i ? ", " : "") + dim_text(d, i);
  return s + "]";
}

std::string input_names(const std::vector<TensorDesc>& declared) {
  std::string s;
  for (const TensorDesc& d : declared) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

// Values in [-1, 1) only, so subnormals flush to zero and there is no overflow to handle.
uint16_t to_half(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  return static_cast<uint16_t>(sign | (exponent << 10) | ((bits >> 13) & 0x3ff));
}

uint16_t to_bfloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return static_cast<uint16_t>(bits >> 16);
}

// Floats uniform in [-1, 1); every other dtype stays zero (integers 0, bools false).
Tensor generate(DType dtype, const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::zeros(dtype, shape);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::kFloat32: t.mutable_data<float>()[i] = uniform(rng); break;
      case DType::kFloat64: t.mutable_data<double>()[i] = uniform(rng); break;
      case DType::kFloat16: t.mutable_data<uint16_t>()[i] = to_half(uniform(rng)); break;
      case DType::kBFloat16: t.mutable_data<uint16_t>()[i] = to_bfloat16(uniform(rng)); break;
      default: return t;
    }
  }
  return t;
}

// The shape a user fixed for an input (its file's, or its --shapes entry), if any.
std::optional<Shape> explicit_shape(const TensorDesc& d, const InputRequest& request) {
  if (auto it = request.given.find(d.name); it != request.given.end()) return it->second.shape();
  if (auto it = request.shapes.find(d.name); it != request.shapes.end()) return it->second;
  return std::nullopt;
}

bool symbolic_batch(const TensorDesc& d) { return d.has_shape && !d.shape.empty() && d.shape[0] < 0; }

Result<Shape> resolve_shape(const TensorDesc& d, std::map<std::string, int64_t>& symbols, int64_t batch) {
  if (!d.has_shape)
    return invalid("input '" + d.name + "' has no declared shape: give one with --shapes " + d.name + ":D0xD1x...");
  Shape shape;
  std::string missing;
  for (size_t i = 0; i < d.shape.size(); ++i) {
    const std::string& name = d.dim_names[i];
    auto bound = is_named_dim(name) ? symbols.find(name) : symbols.end();
    if (d.shape[i] >= 0)
      shape.push_back(d.shape[i]);
    else if (bound != symbols.end())
      shape.push_back(bound->second);
    else if (i == 0)
      shape.push_back(batch);
    else
      shape.push_back(-1);
    if (shape.back() < 0 && missing.empty()) missing = "dimension " + std::to_string(i) + " ('" + dim_text(d, i) + "')";
    if (shape.back() >= 0 && d.shape[i] < 0 && is_named_dim(name)) symbols.emplace(name, shape.back());
  }
  if (missing.empty()) return shape;
  std::string example;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) example += 'x';
    example += shape[i] >= 0 ? std::to_string(shape[i]) : std::string("N");
  }
  return invalid("input '" + d.name + "' " + declared_shape(d) + " has symbolic " + missing +
                 ": give its size with --shapes " + d.name + ":" + example);
}

// Checks the user named only real inputs, and each once.
Status check_names(const std::vector<TensorDesc>& declared, const InputRequest& request) {
  std::set<std::string> names;
  for (const TensorDesc& d : declared) names.insert(d.name);
  for (const auto& [name, shape] : request.shapes) {
    if (!names.count(name))
      return invalid("--shapes: '" + name + "' is not an input of the model (its inputs: " + input_names(declared) +
                     ")");
    if (request.given.count(name)) return invalid("input '" + name + "' is given by --input; drop it from --shapes");
  }
  for (const auto& [name, tensor] : request.given)
    if (!names.count(name))
      return invalid("--input: '" + name + "' is not an input of the model (its inputs: " + input_names(declared) +
                     ")");
  return Status::ok();
}

}  // namespace

Result<std::map<std::string, Shape>> parse_shapes(const std::vector<std::string>& specs) {
  std::map<std::string, Shape> shapes;
  for (const std::string& list : specs) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      std::string spec = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
      // The last ':' splits, so names such as "input:0" (TensorFlow exports) still work.
      size_t colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0) return invalid("--shapes '" + spec + "': " + kShapesSyntax);
      auto shape = parse_dims(spec, spec.substr(colon + 1));
      if (!shape.is_ok()) return shape.status();
      if (!shapes.emplace(spec.substr(0, colon), *shape).second)
        return invalid("--shapes gives input '" + spec.substr(0, colon) + "' twice");
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return shapes;
}

Result<BenchInputs> make_inputs(const std::vector<TensorDesc>& declared, const InputRequest& request) {
  FULCRUM_RETURN_IF_ERROR(check_names(declared, request));
  BenchInputs out;
  out.batch = request.batch;
  bool batch_found = false;
  std::map<std::string, int64_t> symbols;
  // Shapes the user fixed come first: they settle the batch and the named dimensions the
  // generated inputs share with them.
  for (const TensorDesc& d : declared) {
    auto shape = explicit_shape(d, request);
    if (!shape || !d.has_shape || shape->size() != d.shape.size()) continue;
    for (size_t i = 0; i < shape->size(); ++i)
      if (d.shape[i] < 0 && is_named_dim(d.dim_names[i])) symbols.emplace(d.dim_names[i], (*shape)[i]);
    if (!symbolic_batch(d) || shape->empty()) continue;
    if (request.batch_given && (*shape)[0] != request.batch)
      return invalid("--batch " + std::to_string(request.batch) + " disagrees with input '" + d.name + "' of shape " +
                     shape_to_string(*shape));
    if (!batch_found) out.batch = (*shape)[0];
    batch_found = true;
  }
  std::mt19937 rng(20240611);
  for (const TensorDesc& d : declared) {
    if (auto it = request.given.find(d.name); it != request.given.end()) {
      out.tensors.push_back({d.name, it->second});
      out.generated.push_back(false);
      continue;
    }
    Shape shape;
    if (auto it = request.shapes.find(d.name); it != request.shapes.end()) {
      shape = it->second;
    } else {
      FULCRUM_ASSIGN_OR_RETURN(shape, resolve_shape(d, symbols, out.batch));
      batch_found = batch_found || symbolic_batch(d);
    }
    out.tensors.push_back({d.name, generate(d.dtype, shape, rng)});
    out.generated.push_back(true);
  }
  if (request.batch_given && !batch_found && request.batch != 1)
    return invalid("--batch " + std::to_string(request.batch) +
                   ": no input of the model has a symbolic batch dimension (dim 0) to take it");
  return out;
}

}  // namespace fulcrum::cli
