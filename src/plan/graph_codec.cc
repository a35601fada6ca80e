#include "plan/graph_codec.h"

#include <limits>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "core/error.h"
#include "core/float16_convert.h"
#include "plan/byte_io.h"

namespace fulcrum::plan {
namespace {

// Index of an omitted optional input or output.
constexpr uint32_t kNoValue = std::numeric_limits<uint32_t>::max();
// A rank no real tensor reaches; a larger one in a file is corruption.
constexpr uint32_t kMaxRank = 64;

// Attribute kinds as the file spells them (fixed numbers: never reorder).
enum class AttrKind : uint8_t { kInt = 1, kFloat, kString, kTensor, kInts, kFloats, kStrings, kOpaque };

// --- encoding ---------------------------------------------------------------------------

void put_tensor(ByteWriter& w, const Tensor& t, WeightTable& weights) {
  const WeightSlot slot = t.nbytes() == 0 ? WeightSlot{} : weights.place(t);
  w.u8(static_cast<uint8_t>(static_cast<uint8_t>(t.dtype()) | (slot.fp16 ? kStoredAsFp16 : 0)));
  w.u32(static_cast<uint32_t>(t.rank()));
  for (int64_t d : t.shape()) w.i64(d);
  w.u64(slot.offset);
  w.u64(slot.nbytes);
}

void put_type(ByteWriter& w, const ir::TensorType& type) {
  w.u8(static_cast<uint8_t>(type.dtype));
  w.u8(type.dims.has_value());
  if (!type.dims) return;
  w.u32(static_cast<uint32_t>(type.dims->size()));
  for (const ir::Dim& d : *type.dims) {
    w.i64(d.value);
    w.str(d.param);
  }
}

void put_attr(ByteWriter& w, const ops::AttrValue& value, WeightTable& weights) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          w.u8(static_cast<uint8_t>(AttrKind::kInt));
          w.i64(v);
        } else if constexpr (std::is_same_v<T, float>) {
          w.u8(static_cast<uint8_t>(AttrKind::kFloat));
          w.f32(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.u8(static_cast<uint8_t>(AttrKind::kString));
          w.str(v);
        } else if constexpr (std::is_same_v<T, Tensor>) {
          w.u8(static_cast<uint8_t>(AttrKind::kTensor));
          put_tensor(w, v, weights);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          w.u8(static_cast<uint8_t>(AttrKind::kInts));
          w.u32(static_cast<uint32_t>(v.size()));
          for (int64_t x : v) w.i64(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          w.u8(static_cast<uint8_t>(AttrKind::kFloats));
          w.u32(static_cast<uint32_t>(v.size()));
          for (float x : v) w.f32(x);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          w.u8(static_cast<uint8_t>(AttrKind::kStrings));
          w.u32(static_cast<uint32_t>(v.size()));
          for (const std::string& x : v) w.str(x);
        } else {
          static_assert(std::is_same_v<T, ops::OpaqueAttr>);
          w.u8(static_cast<uint8_t>(AttrKind::kOpaque));
          w.str(v.kind);
        }
      },
      value);
}

// The values the file needs: those a node, input or output references (a constant left
// behind by a pass would otherwise cost weight bytes for nothing), in graph order.
std::vector<const ir::Value*> referenced_values(const ir::Graph& graph) {
  std::unordered_map<const ir::Value*, bool> used;
  for (const ir::Value* v : graph.inputs) used[v] = true;
  for (const ir::Value* v : graph.outputs) used[v] = true;
  for (const auto& n : graph.nodes()) {
    for (const ir::Value* v : n->inputs) used[v] = true;
    for (const ir::Value* v : n->outputs) used[v] = true;
  }
  std::vector<const ir::Value*> out;
  for (const auto& v : graph.values())
    if (used.count(v.get())) out.push_back(v.get());
  return out;
}

}  // namespace

WeightSlot WeightTable::place(const Tensor& tensor) {
  auto key = std::make_pair(tensor.raw(), tensor.nbytes());
  if (auto it = placed_.find(key); it != placed_.end()) return it->second;
  WeightSlot slot;
  slot.offset = (size_ + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
  const auto n = static_cast<size_t>(tensor.numel());
  slot.fp16 = tensor.dtype() == DType::kFloat32 && fp16_exact(tensor.data<float>(), n);
  Tensor bytes = tensor;
  if (slot.fp16) {
    bytes = Tensor::zeros(DType::kFloat16, tensor.shape());
    floats_to_halves(tensor.data<float>(), bytes.mutable_data<uint16_t>(), n);
  }
  slot.nbytes = bytes.nbytes();
  placed_.emplace(key, slot);
  entries_.emplace_back(std::move(bytes), slot.offset);
  size_ = slot.offset + slot.nbytes;
  return slot;
}

std::string encode_graph(const ir::Graph& graph, WeightTable& weights) {
  ByteWriter w;
  w.str(graph.name);
  w.u32(static_cast<uint32_t>(graph.opsets.size()));
  for (const auto& [domain, version] : graph.opsets) {
    w.str(domain);
    w.i64(version);
  }
  std::vector<const ir::Value*> values = referenced_values(graph);
  std::unordered_map<const ir::Value*, uint32_t> index;
  w.u32(static_cast<uint32_t>(values.size()));
  for (const ir::Value* v : values) {
    index[v] = static_cast<uint32_t>(index.size());
    w.str(v->name());
    put_type(w, v->type);
    w.u8(v->is_constant());
    if (v->is_constant()) put_tensor(w, v->constant, weights);
  }
  auto put_refs = [&](const std::vector<ir::Value*>& refs) {
    w.u32(static_cast<uint32_t>(refs.size()));
    for (const ir::Value* v : refs) w.u32(v == nullptr ? kNoValue : index.at(v));
  };
  put_refs(graph.inputs);
  put_refs(graph.outputs);
  w.u32(static_cast<uint32_t>(graph.nodes().size()));
  for (const auto& n : graph.nodes()) {
    w.str(n->name);
    w.str(n->op_type);
    w.str(n->domain);
    w.i64(n->opset);
    put_refs(n->inputs);
    put_refs(n->outputs);
    w.u32(static_cast<uint32_t>(n->attrs.size()));
    for (const auto& [name, value] : n->attrs) {
      w.str(name);
      put_attr(w, value, weights);
    }
  }
  return w.take();
}

// --- decoding ---------------------------------------------------------------------------

namespace {

class GraphDecoder {
 public:
  GraphDecoder(const uint8_t* data, size_t size, const uint8_t* weights, size_t weights_size,
               std::shared_ptr<const void> owner)
      : r_(data, size), weights_(weights), weights_size_(weights_size), owner_(std::move(owner)) {}

  Result<std::unique_ptr<ir::Graph>> decode();

 private:
  DType dtype(bool allow_undefined, const char* what);
  DType dtype_code(uint8_t code, bool allow_undefined, const char* what);
  Tensor tensor(const std::string& what);
  ir::TensorType type();
  Status values();
  std::vector<ir::Value*> refs(const char* what, bool allow_omitted);
  ops::AttrValue attr(const std::string& what);
  Status node();
  Status failed() const { return parse_error("{}", r_.error()); }

  ByteReader r_;
  const uint8_t* weights_;
  size_t weights_size_;
  std::shared_ptr<const void> owner_;
  std::unique_ptr<ir::Graph> graph_ = std::make_unique<ir::Graph>();
  std::vector<ir::Value*> values_;
};

DType GraphDecoder::dtype(bool allow_undefined, const char* what) {
  return dtype_code(r_.u8(what), allow_undefined, what);
}

DType GraphDecoder::dtype_code(uint8_t code, bool allow_undefined, const char* what) {
  if (code > static_cast<uint8_t>(DType::kBool) || (code == 0 && !allow_undefined && r_.ok()))
    r_.fail(std::string(what) + ": invalid dtype code " + std::to_string(code));
  return static_cast<DType>(code);
}

Tensor GraphDecoder::tensor(const std::string& what) {
  const uint8_t code = r_.u8("tensor dtype");
  const bool fp16 = (code & kStoredAsFp16) != 0;
  DType dt = dtype_code(static_cast<uint8_t>(code & ~kStoredAsFp16), false, "tensor dtype");
  if (fp16 && dt != DType::kFloat32 && r_.ok())
    r_.fail(fmt::format("{}: a {} tensor cannot be stored as FP16", what, dtype_name(dt)));
  const DType stored = fp16 ? DType::kFloat16 : dt;
  uint32_t rank = r_.count("tensor rank", sizeof(int64_t));
  if (rank > kMaxRank) r_.fail(what + ": rank " + std::to_string(rank) + " is not plausible");
  Shape shape(r_.ok() ? rank : 0);
  uint64_t numel = 1;
  for (int64_t& d : shape) {
    d = r_.i64("tensor dim");
    if (d < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) r_.fail(what + ": bad shape");
  }
  uint64_t offset = r_.u64("tensor offset"), nbytes = r_.u64("tensor size");
  if (!r_.ok()) return {};
  uint64_t want = 0;
  if (__builtin_mul_overflow(numel, dtype_size(stored), &want) || want != nbytes) {
    r_.fail(fmt::format("{}: {} bytes do not hold a {} tensor of shape {}{}", what, nbytes, dtype_name(dt),
                        shape_to_string(shape), fp16 ? " stored as FP16" : ""));
    return {};
  }
  if (nbytes == 0) return Tensor::zeros(dt, std::move(shape));
  if (offset > weights_size_ || nbytes > weights_size_ - offset || offset % dtype_size(stored) != 0) {
    r_.fail(
        fmt::format("{}: bytes [{}, +{}) lie outside the {}-byte weight section", what, offset, nbytes, weights_size_));
    return {};
  }
  if (!fp16) return Tensor::view(dt, std::move(shape), owner_, weights_ + offset);
  // Widened once, here: an owned float32 copy, not a view of the mapping.
  Tensor widened = Tensor::zeros(DType::kFloat32, std::move(shape));
  halves_to_floats(reinterpret_cast<const uint16_t*>(weights_ + offset), widened.mutable_data<float>(),
                   static_cast<size_t>(numel));
  return widened;
}

ir::TensorType GraphDecoder::type() {
  ir::TensorType t;
  t.dtype = dtype(true, "value dtype");
  if (r_.u8("value has-shape flag") == 0) return t;
  uint32_t rank = r_.count("value rank", sizeof(int64_t) + sizeof(uint32_t));
  if (rank > kMaxRank) r_.fail("value rank " + std::to_string(rank) + " is not plausible");
  t.dims.emplace();
  for (uint32_t i = 0; i < rank && r_.ok(); ++i) {
    ir::Dim d;
    d.value = r_.i64("dim");
    d.param = r_.str("dim name");
    if (d.value < -1) r_.fail("dim " + std::to_string(d.value) + " is invalid");
    t.dims->push_back(std::move(d));
  }
  return t;
}

Status GraphDecoder::values() {
  uint32_t n = r_.count("values", 6);
  for (uint32_t i = 0; i < n && r_.ok(); ++i) {
    std::string name = r_.str("value name");
    ir::TensorType t = type();
    Tensor constant;
    if (r_.u8("constant flag") != 0) constant = tensor("constant '" + name + "'");
    if (!r_.ok()) break;
    FULCRUM_ASSIGN_OR_RETURN(ir::Value * v, graph_->add_value(name));
    v->type = std::move(t);
    v->constant = std::move(constant);
    values_.push_back(v);
  }
  return r_.ok() ? Status::ok() : failed();
}

std::vector<ir::Value*> GraphDecoder::refs(const char* what, bool allow_omitted) {
  uint32_t n = r_.count(what, sizeof(uint32_t));
  std::vector<ir::Value*> out;
  for (uint32_t i = 0; i < n && r_.ok(); ++i) {
    uint32_t index = r_.u32(what);
    if (index == kNoValue && allow_omitted) {
      out.push_back(nullptr);
    } else if (index >= values_.size()) {
      r_.fail(std::string(what) + ": tensor index " + std::to_string(index) + " out of range");
    } else {
      out.push_back(values_[index]);
    }
  }
  return out;
}

ops::AttrValue GraphDecoder::attr(const std::string& what) {
  auto kind = static_cast<AttrKind>(r_.u8("attribute kind"));
  switch (kind) {
    case AttrKind::kInt: return r_.i64("int attribute");
    case AttrKind::kFloat: return r_.f32("float attribute");
    case AttrKind::kString: return r_.str("string attribute");
    case AttrKind::kTensor: return tensor(what);
    case AttrKind::kInts: {
      std::vector<int64_t> v(r_.count("ints attribute", sizeof(int64_t)));
      for (int64_t& x : v) x = r_.i64("ints attribute");
      return v;
    }
    case AttrKind::kFloats: {
      std::vector<float> v(r_.count("floats attribute", sizeof(float)));
      for (float& x : v) x = r_.f32("floats attribute");
      return v;
    }
    case AttrKind::kStrings: {
      std::vector<std::string> v(r_.count("strings attribute", sizeof(uint32_t)));
      for (std::string& x : v) x = r_.str("strings attribute");
      return v;
    }
    case AttrKind::kOpaque: return ops::OpaqueAttr{r_.str("opaque attribute")};
  }
  r_.fail(what + ": unknown attribute kind " + std::to_string(static_cast<int>(kind)));
  return int64_t{0};
}

Status GraphDecoder::node() {
  auto n = std::make_unique<ir::Node>();
  n->name = r_.str("node name");
  n->op_type = r_.str("node op type");
  n->domain = r_.str("node domain");
  n->opset = r_.i64("node opset");
  n->inputs = refs("node inputs", true);
  n->outputs = refs("node outputs", true);
  uint32_t n_attrs = r_.count("attributes", 5);
  for (uint32_t i = 0; i < n_attrs && r_.ok(); ++i) {
    std::string name = r_.str("attribute name");
    ops::AttrValue value = attr("attribute '" + name + "' of " + n->label());
    n->attrs.insert_or_assign(std::move(name), std::move(value));
  }
  if (!r_.ok()) return failed();
  for (ir::Value* out : n->outputs) {
    if (out == nullptr) continue;
    if (out->producer != nullptr)
      return parse_error("{}: tensor '{}' is also produced by {}", n->label(), out->name(), out->producer->label());
    out->producer = n.get();
  }
  FULCRUM_RETURN_IF_ERROR(n->parse_attributes());
  graph_->add_node(std::move(n));
  return Status::ok();
}

Result<std::unique_ptr<ir::Graph>> GraphDecoder::decode() {
  graph_->name = r_.str("graph name");
  uint32_t n_opsets = r_.count("opsets", 12);
  for (uint32_t i = 0; i < n_opsets && r_.ok(); ++i) {
    std::string domain = r_.str("opset domain");
    graph_->opsets[domain] = r_.i64("opset version");
  }
  FULCRUM_RETURN_IF_ERROR(values());
  graph_->inputs = refs("graph inputs", false);
  graph_->outputs = refs("graph outputs", false);
  uint32_t n_nodes = r_.count("nodes", 28);
  if (!r_.ok()) return failed();
  for (uint32_t i = 0; i < n_nodes; ++i) FULCRUM_RETURN_IF_ERROR(node());
  if (r_.remaining() != 0) return parse_error("{} unread bytes after the last node", r_.remaining());
  FULCRUM_RETURN_IF_ERROR(ir::verify(*graph_));
  return std::move(graph_);
}

}  // namespace

Result<std::unique_ptr<ir::Graph>> decode_graph(const uint8_t* data, size_t size, const uint8_t* weights,
                                                size_t weights_size, std::shared_ptr<const void> owner) {
  return GraphDecoder(data, size, weights, weights_size, std::move(owner)).decode();
}

}  // namespace fulcrum::plan
