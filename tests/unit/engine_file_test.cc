// The engine file: a graph survives the round trip exactly (every attribute kind, symbolic
// dims, constants viewed in place), an engine loaded from it computes what the built one
// does, and a damaged file is a clear error, never a crash.
#include "plan/engine_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/float16_convert.h"
#include "fulcrum/engine.h"
#include "fulcrum/version.h"
#include "passes_test_util.h"
#include "plan/graph_codec.h"
#include "runtime/engine_impl.h"

namespace fulcrum {
namespace {

using testing::GraphBuilder;

std::vector<uint8_t> serialize(const plan::EngineContents& contents) {
  std::vector<uint8_t> bytes;
  Status s = plan::write_engine(contents, [&](const void* data, size_t size) {
    bytes.insert(bytes.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return bytes;
}

// Reads from 64-byte-aligned memory, as a mapped file is.
Result<plan::EngineContents> deserialize(const std::vector<uint8_t>& bytes) {
  auto storage = std::make_shared<Tensor>(Tensor::zeros(DType::kUInt8, {static_cast<int64_t>(bytes.size())}));
  if (!bytes.empty()) std::memcpy(storage->mutable_raw(), bytes.data(), bytes.size());
  return plan::read_engine(static_cast<const uint8_t*>(storage->raw()), bytes.size(), storage, "test.fulcrum");
}

plan::EngineContents contents_of(std::shared_ptr<const ir::Graph> graph) {
  plan::EngineContents c;
  c.metadata.fulcrum_version = version_string();
  c.metadata.source_name = "model.onnx";
  c.metadata.source_size = 1234;
  c.metadata.source_fnv1a = 0x0123456789abcdefull;
  c.metadata.created_unix = 1700000000;
  c.metadata.build_ms = 12.5;
  c.config.backend = BackendKind::kCpu;
  c.config.threads = 3;
  c.config.fp16 = true;
  c.config.fp16_numerics = true;
  c.graph = std::move(graph);
  return c;
}

// A graph whose one node carries an attribute of every kind, including a tensor and values
// JSON could not hold (NaN, infinity); the input has a named symbolic dim.
std::unique_ptr<ir::Graph> graph_with_every_attribute_kind() {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {-1, 3});
  x->type.dims->push_back(ir::Dim{-1, ""});  // a symbolic dim without a name
  ir::Value* w = b.constant("w", Tensor::from_vector<float>(DType::kFloat32, {3}, {1.5f, -2.0f, 0.25f}));
  ops::Attributes attrs = {
      {"i", int64_t{-7}},
      {"f", std::numeric_limits<float>::infinity()},
      {"nan", std::nanf("")},
      {"s", std::string("hello\0world", 11)},
      {"t", Tensor::from_vector<int64_t>(DType::kInt64, {2}, {4, -5})},
      {"empty_t", Tensor::zeros(DType::kFloat32, {0, 2})},
      {"ints", std::vector<int64_t>{1, 2, 3}},
      {"floats", std::vector<float>{0.5f, -0.0f}},
      {"strings", std::vector<std::string>{"a", "", "c"}},
      {"g", ops::OpaqueAttr{"graph"}},
  };
  ir::Node* add = b.node("Add", {x, w}, {"y"}, attrs);
  add->name = "the_add";
  b.graph().find_value("y")->type.dtype = DType::kFloat32;
  b.output(b.graph().find_value("y"));
  b.graph().name = "every_kind";
  return std::make_unique<ir::Graph>(std::move(b.graph()));
}

void expect_same_tensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
}

void expect_same_attr(const ops::AttrValue& a, const ops::AttrValue& b, const std::string& name) {
  ASSERT_EQ(a.index(), b.index()) << name;
  if (auto* t = std::get_if<Tensor>(&a)) {
    expect_same_tensor(*t, std::get<Tensor>(b));
  } else if (auto* f = std::get_if<float>(&a)) {
    float g = std::get<float>(b);
    EXPECT_EQ(std::memcmp(f, &g, sizeof g), 0) << name;  // bit for bit: NaN and -0 too
  } else if (auto* fs = std::get_if<std::vector<float>>(&a)) {
    const auto& gs = std::get<std::vector<float>>(b);
    ASSERT_EQ(fs->size(), gs.size());
    EXPECT_EQ(std::memcmp(fs->data(), gs.data(), gs.size() * sizeof(float)), 0) << name;
  } else if (auto* o = std::get_if<ops::OpaqueAttr>(&a)) {
    EXPECT_EQ(o->kind, std::get<ops::OpaqueAttr>(b).kind);
  } else if (auto* i = std::get_if<int64_t>(&a)) {
    EXPECT_EQ(*i, std::get<int64_t>(b)) << name;
  } else if (auto* s = std::get_if<std::string>(&a)) {
    EXPECT_EQ(*s, std::get<std::string>(b)) << name;
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&a)) {
    EXPECT_EQ(*is, std::get<std::vector<int64_t>>(b)) << name;
  } else {
    EXPECT_EQ(std::get<std::vector<std::string>>(a), std::get<std::vector<std::string>>(b)) << name;
  }
}

void expect_same_type(const ir::TensorType& a, const ir::TensorType& b) {
  EXPECT_EQ(a.dtype, b.dtype);
  ASSERT_EQ(a.dims.has_value(), b.dims.has_value());
  if (!a.dims) return;
  ASSERT_EQ(a.dims->size(), b.dims->size());
  for (size_t i = 0; i < a.dims->size(); ++i) {
    EXPECT_EQ((*a.dims)[i].value, (*b.dims)[i].value);
    EXPECT_EQ((*a.dims)[i].param, (*b.dims)[i].param);
  }
}

TEST(EngineFile, RoundTripKeepsGraphAttributesAndMetadata) {
  std::shared_ptr<const ir::Graph> graph = graph_with_every_attribute_kind();
  std::vector<uint8_t> bytes = serialize(contents_of(graph));
  auto loaded = deserialize(bytes);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  const plan::EngineMetadata& m = loaded->metadata;
  EXPECT_EQ(m.format_version, plan::kEngineFormatVersion);
  EXPECT_EQ(m.fulcrum_version, version_string());
  EXPECT_EQ(m.source_name, "model.onnx");
  EXPECT_EQ(m.source_size, 1234u);
  EXPECT_EQ(m.source_fnv1a, 0x0123456789abcdefull);
  EXPECT_EQ(m.created_unix, 1700000000);
  EXPECT_EQ(m.build_ms, 12.5);
  EXPECT_EQ(loaded->config.backend, BackendKind::kCpu);
  EXPECT_EQ(loaded->config.threads, 3);
  EXPECT_TRUE(loaded->config.fp16);
  EXPECT_TRUE(loaded->config.fp16_numerics);

  const ir::Graph& g = *loaded->graph;
  EXPECT_EQ(g.name, "every_kind");
  EXPECT_EQ(g.opsets, graph->opsets);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0]->name(), "x");
  expect_same_type(g.inputs[0]->type, graph->inputs[0]->type);
  EXPECT_EQ((*g.inputs[0]->type.dims)[0].param, "N");
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.outputs[0]->name(), "y");
  ASSERT_EQ(g.nodes().size(), 1u);
  const ir::Node& n = *g.nodes()[0];
  const ir::Node& want = *graph->nodes()[0];
  EXPECT_EQ(n.name, "the_add");
  EXPECT_EQ(n.op_type, "Add");
  EXPECT_EQ(n.opset, want.opset);
  ASSERT_NE(n.typed_attrs, nullptr) << "attributes are parsed on load";
  ASSERT_EQ(n.attrs.size(), want.attrs.size());
  for (const auto& [name, value] : want.attrs) {
    ASSERT_TRUE(n.attrs.count(name)) << name;
    expect_same_attr(value, n.attrs.at(name), name);
  }
  const ir::Value* w = g.find_value("w");
  ASSERT_NE(w, nullptr);
  expect_same_tensor(w->constant, graph->find_value("w")->constant);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w->constant.raw()) % plan::kWeightAlignment, 0u);
}

TEST(EngineFile, SharedWeightsAreStoredOnce) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  Tensor big = testing::random_floats({4096}, 9);  // not FP16-exact: stored as float32
  ir::Value* w1 = b.constant("w1", big);
  ir::Value* w2 = b.constant("w2", big);  // the same storage, as a cloned graph's constants are
  ir::Value* w3 = b.constant("w3", big.clone());
  ir::Value* y = b.node("Add", {x, w1}, {"y"})->outputs[0];
  ir::Value* z = b.node("Add", {y, w2}, {"z"})->outputs[0];
  b.output(b.node("Add", {z, w3}, {"out"})->outputs[0]);
  std::vector<uint8_t> bytes = serialize(contents_of(std::make_unique<ir::Graph>(std::move(b.graph()))));
  EXPECT_GT(bytes.size(), 2 * big.nbytes());
  EXPECT_LT(bytes.size(), 3 * big.nbytes());
}

// A small convolutional network, optimized for the CPU backend (fused, relaid out).
std::unique_ptr<ir::Graph> small_cnn() {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {-1, 3, 8, 8});
  ir::Value* w = b.constant("w", testing::random_floats({4, 3, 3, 3}, 1));
  ir::Value* bias = b.constant("b", testing::random_floats({4}, 2));
  ir::Value* c = b.node("Conv", {x, w, bias}, {"c"}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})->outputs[0];
  ir::Value* r = b.node("Relu", {c}, {"r"})->outputs[0];
  ir::Value* s = b.constant("s", testing::random_floats({1, 4, 1, 1}, 3));
  ir::Value* a = b.node("Add", {r, s}, {"a"})->outputs[0];
  ir::Value* p = b.node("GlobalAveragePool", {a}, {"p"})->outputs[0];
  b.output(p);
  return std::make_unique<ir::Graph>(std::move(b.graph()));
}

// Bytes of a file whose one constant is `w` (read by an Add).
std::vector<uint8_t> file_with_constant(const Tensor& w) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {w.numel()});
  b.output(b.node("Add", {x, b.constant("w", w)}, {"y"})->outputs[0]);
  return serialize(contents_of(std::make_unique<ir::Graph>(std::move(b.graph()))));
}

TEST(EngineFile, Fp16ExactWeightsAreStoredAsFp16AndReadBackBitExact) {
  Tensor fp32 = testing::random_floats({4096}, 11);
  Tensor fp16 = fp32.clone();
  round_to_fp16(fp32.data<float>(), fp16.mutable_data<float>(), 4096);
  fp16.mutable_data<float>()[0] = -0.0f;  // signed zero, infinity and a subnormal survive too
  fp16.mutable_data<float>()[1] = std::numeric_limits<float>::infinity();
  fp16.mutable_data<float>()[2] = 5.960464477539063e-08f;
  std::vector<uint8_t> big = file_with_constant(fp32);
  std::vector<uint8_t> small = file_with_constant(fp16);
  EXPECT_EQ(big.size() - small.size(), 4096u * 2) << "the weight is stored in half the bytes";

  // Each file read from aligned memory of its own, to see whether the weight views it.
  for (const auto* file : {&small, &big}) {
    auto storage = std::make_shared<Tensor>(Tensor::zeros(DType::kUInt8, {static_cast<int64_t>(file->size())}));
    std::memcpy(storage->mutable_raw(), file->data(), file->size());
    const auto* begin = static_cast<const uint8_t*>(storage->raw());
    auto loaded = plan::read_engine(begin, file->size(), storage, "test.fulcrum");
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    const Tensor& w = loaded->graph->find_value("w")->constant;
    ASSERT_EQ(w.dtype(), DType::kFloat32);
    expect_same_tensor(w, file == &small ? fp16 : fp32);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(w.raw()) % plan::kWeightAlignment, 0u);
    const auto* p = static_cast<const uint8_t*>(w.raw());
    const bool views_file = p >= begin && p < begin + file->size();
    EXPECT_EQ(views_file, file == &big) << "FP16 weights are widened into memory of their own; FP32 ones are views";
  }
}

TEST(EngineFile, Fp16StorageFlagIsCheckedAgainstTheDtypeAndSize) {
  Tensor w = Tensor::from_vector<float>(DType::kFloat32, {4}, {0.5f, 1.0f, 2.0f, 4.0f});
  std::vector<uint8_t> bytes = file_with_constant(w);
  // The constant's tensor record: dtype byte (float32 | FP16 flag), rank, dim, offset, size.
  const uint8_t flagged = static_cast<uint8_t>(DType::kFloat32) | plan::kStoredAsFp16;
  const uint8_t record[] = {flagged, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
  auto at = std::search(bytes.begin(), bytes.end(), std::begin(record), std::end(record));
  ASSERT_NE(at, bytes.end()) << "the FP16-exact weight is flagged";
  const size_t entry = 32 + 32 * 2;  // GRAPH's entry in the section table
  uint64_t offset, size;
  std::memcpy(&offset, bytes.data() + entry + 8, 8);
  std::memcpy(&size, bytes.data() + entry + 16, 8);
  auto with_dtype_byte = [&](uint8_t code) {
    std::vector<uint8_t> damaged = bytes;
    damaged[static_cast<size_t>(at - bytes.begin())] = code;
    uint64_t checksum = plan::fnv1a64(damaged.data() + offset, size);
    std::memcpy(damaged.data() + entry + 24, &checksum, 8);
    return damaged;
  };
  auto int32 = deserialize(with_dtype_byte(static_cast<uint8_t>(DType::kInt32) | plan::kStoredAsFp16));
  ASSERT_FALSE(int32.is_ok());
  EXPECT_NE(int32.status().message().find("a int32 tensor cannot be stored as FP16"), std::string::npos)
      << int32.status().message();
  auto unflagged = deserialize(with_dtype_byte(static_cast<uint8_t>(DType::kFloat32)));
  ASSERT_FALSE(unflagged.is_ok());
  EXPECT_NE(unflagged.status().message().find("8 bytes do not hold a float32 tensor of shape [4]"), std::string::npos)
      << unflagged.status().message();
}

TEST(EngineFile, AnFp32BuildsConfigIsVersionOnes) {
  plan::EngineContents contents = contents_of(graph_with_every_attribute_kind());
  contents.config.fp16 = contents.config.fp16_numerics = false;
  std::vector<uint8_t> bytes = serialize(contents);
  uint64_t config_size;
  std::memcpy(&config_size, bytes.data() + 32 + 32 + 16, 8);
  EXPECT_EQ(config_size, 4u + 8u) << "u32 backend, i64 threads, no optional fields";
  auto loaded = deserialize(bytes);
  ASSERT_TRUE(loaded.is_ok());
  EXPECT_FALSE(loaded->config.fp16);
  EXPECT_FALSE(loaded->config.fp16_numerics);
}

TEST(EngineFile, LoadedEngineComputesWhatTheBuiltOneDoes) {
  std::unique_ptr<ir::Graph> graph = small_cnn();
  for (BackendKind backend : {BackendKind::kCpu, BackendKind::kReference}) {
    BuilderConfig config;
    config.backend = backend;
    config.threads = 1;
    auto optimized = runtime::optimize(*graph, config);
    ASSERT_TRUE(optimized.is_ok()) << optimized.status().to_string();
    std::shared_ptr<const ir::Graph> built_graph = std::move(optimized).value();
    auto built = runtime::create_engine(built_graph, config);
    ASSERT_TRUE(built.is_ok()) << built.status().to_string();

    plan::EngineContents contents = contents_of(built_graph);
    contents.config = config;
    std::vector<uint8_t> bytes = serialize(contents);
    auto loaded = Runtime().deserialize(bytes);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();

    std::vector<NamedTensor> inputs = {{"x", testing::random_floats({2, 3, 8, 8}, 4)}};
    auto want = (*built)->create_execution_context()->run(inputs);
    auto got = (*loaded)->create_execution_context()->run(inputs);
    ASSERT_TRUE(want.is_ok() && got.is_ok());
    ASSERT_EQ(want->size(), got->size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].name, (*want)[i].name);
      expect_same_tensor((*got)[i].tensor, (*want)[i].tensor);
    }
  }
}

}  // namespace
}  // namespace fulcrum

namespace fulcrum {
namespace {

class DamagedEngineFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::shared_ptr<const ir::Graph> graph = graph_with_every_attribute_kind();
    bytes_ = serialize(contents_of(graph));
    ASSERT_TRUE(deserialize(bytes_).is_ok());
    // The section table: 32-byte entries after the 32-byte header (id, flags, offset, size, checksum).
    uint32_t count;
    std::memcpy(&count, bytes_.data() + 12, 4);
    for (uint32_t i = 0; i < count; ++i) {
      uint64_t offset, size;
      std::memcpy(&offset, bytes_.data() + 32 + 32 * i + 8, 8);
      std::memcpy(&size, bytes_.data() + 32 + 32 * i + 16, 8);
      boundaries_.push_back(offset);
      boundaries_.push_back(offset + size);
      if (i + 1 == count) weights_offset_ = offset;
      uint32_t id;
      std::memcpy(&id, bytes_.data() + 32 + 32 * i, 4);
      if (id == static_cast<uint32_t>(plan::SectionId::kPrecision)) precision_entry_ = 32 + 32 * i;
    }
    boundaries_.push_back(32);
  }

  // Expects a clean error that names the file.
  static void expect_error(const std::vector<uint8_t>& bytes, const std::string& needle, const std::string& what) {
    auto r = deserialize(bytes);
    ASSERT_FALSE(r.is_ok()) << what << " was accepted";
    EXPECT_NE(r.status().message().find("test.fulcrum"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << what << ": " << r.status().message();
  }

  std::vector<uint8_t> bytes_;
  std::vector<uint64_t> boundaries_;
  uint64_t weights_offset_ = 0;
  size_t precision_entry_ = 0;  // the optional PRECISION section's table entry
};

TEST_F(DamagedEngineFile, NotAnEngine) {
  expect_error({}, "not a Fulcrum engine file", "an empty file");
  std::vector<uint8_t> onnx = {0x08, 0x07, 0x12, 0x04, 'x', 'y', 'z', 'w', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  expect_error(onnx, "not a Fulcrum engine file", "an ONNX file");
}

TEST_F(DamagedEngineFile, OtherFormatVersion) {
  std::vector<uint8_t> bytes = bytes_;
  bytes[8] = static_cast<uint8_t>(plan::kEngineFormatVersion + 1);
  expect_error(bytes, "format version 2", "a newer format");
}

TEST_F(DamagedEngineFile, TruncatedAtEverySectionBoundaryAndByte) {
  for (uint64_t cut : boundaries_)
    if (cut < bytes_.size())
      expect_error(std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(cut)), "",
                   "cut at " + std::to_string(cut));
  for (size_t cut = 1; cut < bytes_.size(); cut += 7)
    expect_error(std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(cut)), "",
                 "cut at " + std::to_string(cut));
  std::vector<uint8_t> longer = bytes_;
  longer.push_back(0);
  expect_error(longer, "trailing bytes", "a padded file");
}

// Every byte before the weights, flipped: the checksummed sections and the header catch it
// (or, for a few header bytes that do not matter, it loads); it never crashes.
TEST_F(DamagedEngineFile, FlippedBytesAreCaught) {
  int accepted = 0;
  for (size_t i = 0; i < weights_offset_; ++i) {
    std::vector<uint8_t> bytes = bytes_;
    bytes[i] ^= 0x5a;
    auto r = deserialize(bytes);
    if (r.is_ok()) {
      ++accepted;
      // Only the reserved header word and the padding before the weights are not checked, and
      // the optional PRECISION section's id and flags: a damaged id reads as an unknown
      // optional section, which a reader skips by design (the layers then have no precision
      // record); its flags matter only for the checksum bit.
      const bool precision_entry = i >= precision_entry_ && i < precision_entry_ + 8;
      EXPECT_TRUE((i >= 24 && i < 32) || i >= boundaries_[7] || precision_entry)
          << "flipped byte " << i << " went unnoticed";
    }
  }
  ASSERT_NE(precision_entry_, 0u);
  EXPECT_LE(accepted, 8 + 64 + 8);
  // Weights are not checksummed (that would read every byte at load): a flip there loads.
  std::vector<uint8_t> bytes = bytes_;
  bytes[weights_offset_] ^= 0x5a;
  EXPECT_TRUE(deserialize(bytes).is_ok());
}

// The same past the checksum: every byte of the GRAPH section changed and the checksum made to
// match, so the decoder itself meets the damage. It must fail cleanly or decode a valid graph.
TEST_F(DamagedEngineFile, DecoderSurvivesEveryGraphByteChanged) {
  const size_t entry = 32 + 32 * 2;  // GRAPH is the third section
  ASSERT_EQ(bytes_[entry], static_cast<uint8_t>(plan::SectionId::kGraph));
  uint64_t offset, size;
  std::memcpy(&offset, bytes_.data() + entry + 8, 8);
  std::memcpy(&size, bytes_.data() + entry + 16, 8);
  int rejected = 0, total = 0;
  for (uint8_t mask : {0x01, 0x80, 0xff}) {
    for (uint64_t i = offset; i < offset + size; ++i) {
      std::vector<uint8_t> bytes = bytes_;
      bytes[i] ^= mask;
      uint64_t checksum = plan::fnv1a64(bytes.data() + offset, size);
      std::memcpy(bytes.data() + entry + 24, &checksum, 8);
      auto r = deserialize(bytes);
      ++total;
      if (!r.is_ok()) {
        ++rejected;
        EXPECT_NE(r.status().message().find("test.fulcrum: GRAPH section"), std::string::npos) << r.status().message();
      } else {
        EXPECT_TRUE(ir::verify(*r->graph).is_ok());
      }
    }
  }
  // Names and attribute values may change harmlessly; structure and sizes may not.
  EXPECT_GT(rejected, total / 3);
}

// CONFIG's optional fields (the precision flags) meet every change past the checksum too; an
// unknown tag is skipped, a malformed field is an error.
TEST_F(DamagedEngineFile, DecoderSurvivesEveryConfigByteChanged) {
  const size_t entry = 32 + 32 * 1;  // CONFIG is the second section
  ASSERT_EQ(bytes_[entry], static_cast<uint8_t>(plan::SectionId::kConfig));
  uint64_t offset, size;
  std::memcpy(&offset, bytes_.data() + entry + 8, 8);
  std::memcpy(&size, bytes_.data() + entry + 16, 8);
  ASSERT_EQ(size, 4u + 8u + 2 * (4 + 4 + 1)) << "backend, threads, then the fp16 and fp16_numerics fields";
  auto changed = [&](uint64_t i, uint8_t mask) {
    std::vector<uint8_t> bytes = bytes_;
    bytes[offset + i] ^= mask;
    uint64_t checksum = plan::fnv1a64(bytes.data() + offset, size);
    std::memcpy(bytes.data() + entry + 24, &checksum, 8);
    return deserialize(bytes);
  };
  for (uint8_t mask : {0x01, 0x80, 0xff})
    for (uint64_t i = 0; i < size; ++i) {
      auto r = changed(i, mask);
      if (!r.is_ok())
        EXPECT_NE(r.status().message().find("test.fulcrum: CONFIG section"), std::string::npos) << r.status().message();
    }
  // The first field's tag (byte 12) turned into one this Fulcrum does not know: skipped.
  auto unknown = changed(12, 0x40);
  ASSERT_TRUE(unknown.is_ok()) << unknown.status().to_string();
  EXPECT_FALSE(unknown->config.fp16);
  EXPECT_TRUE(unknown->config.fp16_numerics);
  // Its payload byte (12 + 4 + 4) made 2: not a flag.
  auto bad = changed(20, 0x03);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("config field 1 (fp16) is not a flag"), std::string::npos)
      << bad.status().message();
}

TEST_F(DamagedEngineFile, UnknownOpNamesTheNode) {
  auto graph = graph_with_every_attribute_kind();
  auto& node = const_cast<ir::Node&>(*graph->nodes()[0]);
  node.op_type = "NoSuchOp";
  expect_error(serialize(contents_of(std::move(graph))), "node 'the_add' (NoSuchOp)", "an unknown op");
}

TEST_F(DamagedEngineFile, OtherFulcrumVersionIsRefusedAtLoad) {
  plan::EngineContents contents = contents_of(graph_with_every_attribute_kind());
  contents.metadata.fulcrum_version = "0.0.1";
  auto engine = Runtime().deserialize(serialize(contents));
  ASSERT_FALSE(engine.is_ok());
  EXPECT_NE(engine.status().message().find("built by Fulcrum 0.0.1"), std::string::npos) << engine.status().message();
}

}  // namespace
}  // namespace fulcrum
