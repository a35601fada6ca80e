#include "plan/engine_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "fulcrum/version.h"
#include "plan/byte_io.h"
#include "plan/graph_codec.h"

namespace fulcrum::plan {
namespace {

constexpr size_t kHeaderBytes = 32;        // magic, version, section count, file size, reserved
constexpr size_t kSectionEntryBytes = 32;  // id, flags, offset, size, checksum
constexpr uint32_t kMaxSections = 64;

// Section flags.
constexpr uint32_t kRequired = 1u << 0;     // a reader that does not know the id must refuse the file
constexpr uint32_t kChecksummed = 1u << 1;  // the entry's FNV-1a 64 covers the bytes; verified at load

struct SectionEntry {
  uint32_t id = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t checksum = 0;
};

const char* section_name(uint32_t id) {
  switch (static_cast<SectionId>(id)) {
    case SectionId::kMetadata: return "METADATA";
    case SectionId::kConfig: return "CONFIG";
    case SectionId::kGraph: return "GRAPH";
    case SectionId::kWeights: return "WEIGHTS";
    case SectionId::kPrecision: return "PRECISION";
  }
  return "unknown";
}

// The file spells backends with fixed numbers, independent of the enum's order.
uint32_t backend_code(BackendKind kind) { return kind == BackendKind::kReference ? 0 : 1; }

std::string encode_metadata(const EngineMetadata& m) {
  ByteWriter w;
  w.str(m.fulcrum_version);
  w.str(m.source_name);
  w.u64(m.source_size);
  w.u64(m.source_fnv1a);
  w.i64(m.created_unix);
  w.f64(m.build_ms);
  return w.take();
}

// CONFIG's optional fields, after the fixed ones: each a u32 tag and a str payload, so a
// field is added without a format bump and a reader skips tags it does not know. Written only
// when they differ from the default (an FP32 build's CONFIG is version 1's).
enum class ConfigField : uint32_t {
  kFp16 = 1,
  kFp16Numerics = 2,
  kInt8 = 3,
  kPrecisionConstraints = 4,  // "prefer" / "obey"
  kLayerPrecisions = 5,       // "GLOB:precision,..." as the CLI spells them
  kCalibrationCache = 6,      // the cache the scales came from (informational)
};

void put_text(ByteWriter& w, ConfigField field, const std::string& value) {
  if (value.empty()) return;
  w.u32(static_cast<uint32_t>(field));
  w.str(value);
}

std::string layer_precisions_text(const std::vector<LayerPrecision>& requests) {
  std::string out;
  for (const LayerPrecision& r : requests)
    out += (out.empty() ? "" : ",") + r.pattern + ":" + precision_name(r.precision);
  return out;
}

void put_flag(ByteWriter& w, ConfigField field, bool value) {
  if (!value) return;
  w.u32(static_cast<uint32_t>(field));
  w.str(std::string(1, '\1'));
}

std::string encode_config(const BuilderConfig& c) {
  ByteWriter w;
  w.u32(backend_code(c.backend));
  w.i64(c.threads);
  put_flag(w, ConfigField::kFp16, c.fp16);
  put_flag(w, ConfigField::kFp16Numerics, c.fp16_numerics);
  put_flag(w, ConfigField::kInt8, c.int8);
  if (c.precision_constraints != PrecisionConstraints::kNone)
    put_text(w, ConfigField::kPrecisionConstraints, constraints_name(c.precision_constraints));
  put_text(w, ConfigField::kLayerPrecisions, layer_precisions_text(c.layer_precisions));
  put_text(w, ConfigField::kCalibrationCache, c.calibration_cache);
  return w.take();
}

Status decode_metadata(ByteReader& r, EngineMetadata& m) {
  m.fulcrum_version = r.str("Fulcrum version");
  m.source_name = r.str("source model name");
  m.source_size = r.u64("source model size");
  m.source_fnv1a = r.u64("source model fingerprint");
  m.created_unix = r.i64("creation time");
  m.build_ms = r.f64("build time");
  return r.ok() ? Status::ok() : parse_error("{}", r.error());
}

Status decode_config(ByteReader& r, BuilderConfig& c) {
  uint32_t backend = r.u32("backend");
  int64_t threads = r.i64("threads");
  if (!r.ok()) return parse_error("{}", r.error());
  if (backend > 1) return parse_error("unknown backend code {}", backend);
  if (threads < 0 || threads > 4096) return parse_error("thread count {} is invalid", threads);
  c.backend = backend == 0 ? BackendKind::kReference : BackendKind::kCpu;
  c.threads = static_cast<int>(threads);
  while (r.remaining() > 0) {
    const uint32_t tag = r.u32("config field tag");
    const std::string payload = r.str("config field");
    if (!r.ok()) return parse_error("{}", r.error());
    auto flag = [&](const char* name, bool& out) -> Status {
      if (payload.size() != 1 || static_cast<uint8_t>(payload[0]) > 1)
        return parse_error("config field {} ({}) is not a flag", tag, name);
      out = payload[0] == 1;
      return Status::ok();
    };
    switch (static_cast<ConfigField>(tag)) {
      case ConfigField::kFp16: FULCRUM_RETURN_IF_ERROR(flag("fp16", c.fp16)); break;
      case ConfigField::kFp16Numerics: FULCRUM_RETURN_IF_ERROR(flag("fp16_numerics", c.fp16_numerics)); break;
      case ConfigField::kInt8: FULCRUM_RETURN_IF_ERROR(flag("int8", c.int8)); break;
      case ConfigField::kPrecisionConstraints:
        if (!parse_constraints(payload, c.precision_constraints))
          return parse_error("config field {}: unknown precision constraints \"{}\"", tag, payload);
        break;
      case ConfigField::kLayerPrecisions: {
        std::string error;
        if (!parse_layer_precisions(payload, c.layer_precisions, error))
          return parse_error("config field {}: {}", tag, error);
        break;
      }
      case ConfigField::kCalibrationCache: c.calibration_cache = payload; break;
      default: break;  // written by a newer Fulcrum: skipped
    }
  }
  return Status::ok();
}

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr) munmap(addr, size);
  }
};

// Maps a whole file read-only. An empty file maps to an empty range.
Result<std::shared_ptr<const Mapping>> map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("{}: not a regular file", path);
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void* addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      ::close(fd);
      return io_error("{}: cannot map: {}", path, std::strerror(errno));
    }
    m->addr = addr;
  }
  ::close(fd);
  return std::shared_ptr<const Mapping>(std::move(m));
}

}  // namespace

uint64_t fnv1a64(const void* data, size_t size, uint64_t hash) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

Result<uint64_t> fnv1a64_file(const std::string& path) {
  FULCRUM_ASSIGN_OR_RETURN(auto mapping, map_file(path));
  if (mapping->size > 0) madvise(mapping->addr, mapping->size, MADV_SEQUENTIAL);
  return fnv1a64(mapping->addr, mapping->size);
}

// Each layer's precision and the builder's reason, in the graph's node order.
std::string encode_precision(const ir::Graph& graph) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(graph.nodes().size()));
  for (const auto& n : graph.nodes()) {
    w.u8(static_cast<uint8_t>(n->precision));
    w.str(n->precision_reason);
  }
  return w.take();
}

Status decode_precision(ByteReader& r, ir::Graph& graph) {
  const uint32_t count = r.u32("layer count");
  if (r.ok() && count != graph.nodes().size())
    return parse_error("has {} layers, the graph {}", count, graph.nodes().size());
  for (const auto& n : graph.nodes()) {
    const uint8_t p = r.u8("layer precision");
    std::string reason = r.str("precision reason");
    if (!r.ok()) return parse_error("{}", r.error());
    if (p > static_cast<uint8_t>(Precision::kInt8)) return parse_error("{}: unknown precision code {}", n->label(), p);
    n->precision = static_cast<Precision>(p);
    n->precision_reason = std::move(reason);
  }
  return r.remaining() == 0 ? Status::ok() : parse_error("{} unread bytes", r.remaining());
}

Status write_engine(const EngineContents& contents, const ByteSink& sink) {
  if (contents.graph == nullptr) return invalid_argument("engine file: no graph to write");
  WeightTable weights;
  constexpr int kSections = 4;  // before WEIGHTS
  std::string sections[kSections] = {encode_metadata(contents.metadata), encode_config(contents.config),
                                     encode_graph(*contents.graph, weights), encode_precision(*contents.graph)};
  const SectionId ids[kSections] = {SectionId::kMetadata, SectionId::kConfig, SectionId::kGraph, SectionId::kPrecision};

  std::vector<SectionEntry> table;
  uint64_t offset = kHeaderBytes + (kSections + 1) * kSectionEntryBytes;
  for (int i = 0; i < kSections; ++i) {
    const uint32_t required = ids[i] == SectionId::kPrecision ? 0 : kRequired;
    table.push_back({static_cast<uint32_t>(ids[i]), required | kChecksummed, offset, sections[i].size(),
                     fnv1a64(sections[i].data(), sections[i].size())});
    offset += sections[i].size();
  }
  // Weights start on an aligned offset; mapped at a page boundary, every tensor is then aligned.
  offset = (offset + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
  table.push_back({static_cast<uint32_t>(SectionId::kWeights), kRequired, offset, weights.size(), 0});
  const uint64_t file_size = offset + weights.size();

  ByteWriter header;
  for (char c : kEngineMagic) header.put(c);
  header.u32(kEngineFormatVersion);
  header.u32(static_cast<uint32_t>(table.size()));
  header.u64(file_size);
  header.u64(0);
  for (const SectionEntry& e : table) {
    header.u32(e.id);
    header.u32(e.flags);
    header.u64(e.offset);
    header.u64(e.size);
    header.u64(e.checksum);
  }
  uint64_t written = 0;
  auto emit = [&](const void* data, size_t size) {
    written += size;
    return sink(data, size);
  };
  static const char kZeros[kWeightAlignment] = {};
  FULCRUM_RETURN_IF_ERROR(emit(header.bytes().data(), header.bytes().size()));
  for (const std::string& s : sections) FULCRUM_RETURN_IF_ERROR(emit(s.data(), s.size()));
  const uint64_t weights_start = table.back().offset;
  for (const auto& [tensor, at] : weights.entries()) {
    FULCRUM_RETURN_IF_ERROR(emit(kZeros, weights_start + at - written));
    FULCRUM_RETURN_IF_ERROR(emit(tensor.raw(), tensor.nbytes()));
  }
  FULCRUM_RETURN_IF_ERROR(emit(kZeros, weights_start - std::min(written, weights_start)));
  if (written != file_size) return internal_error("engine file: wrote {} bytes, laid out {}", written, file_size);
  return Status::ok();
}

Status write_engine_file(const EngineContents& contents, const std::string& path) {
  // Written next to the target and renamed over it, so a failed build never leaves a
  // half-written engine behind under the real name.
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return io_error("{}: cannot create: {}", tmp, std::strerror(errno));
  Status status = write_engine(contents, [&](const void* data, size_t size) -> Status {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return out ? Status::ok() : io_error("{}: write failed: {}", tmp, std::strerror(errno));
  });
  out.close();
  if (status.is_ok() && !out) status = io_error("{}: write failed: {}", tmp, std::strerror(errno));
  if (status.is_ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    status = io_error("{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  if (!status.is_ok()) std::remove(tmp.c_str());
  return status;
}

bool is_engine_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kEngineMagic] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, kEngineMagic, sizeof magic) == 0;
}

namespace {

// Reads the header and the section table, checking every entry against the file's bounds.
Status read_table(const uint8_t* data, size_t size, std::map<uint32_t, SectionEntry>& sections) {
  if (size < sizeof kEngineMagic || std::memcmp(data, kEngineMagic, sizeof kEngineMagic) != 0)
    return parse_error("not a Fulcrum engine file (no FULCRUM magic)");
  ByteReader r(data + sizeof kEngineMagic, size - sizeof kEngineMagic);
  uint32_t version = r.u32("format version");
  if (r.ok() && version != kEngineFormatVersion)
    return parse_error(
        "engine file format version {}, but this Fulcrum ({}) reads version {}: rebuild the engine with "
        "`fulcrum build`",
        version, version_string(), kEngineFormatVersion);
  uint32_t count = r.u32("section count");
  uint64_t file_size = r.u64("file size");
  r.u64("reserved");
  if (!r.ok()) return parse_error("truncated header ({} bytes)", size);
  if (file_size != size)
    return parse_error("{} ({} bytes, the header says {})", size < file_size ? "truncated" : "has trailing bytes", size,
                       file_size);
  if (count > kMaxSections) return parse_error("section count {} is not plausible", count);
  const uint64_t table_end = kHeaderBytes + uint64_t{count} * kSectionEntryBytes;
  for (uint32_t i = 0; i < count; ++i) {
    SectionEntry e{r.u32("section id"), r.u32("section flags"), r.u64("section offset"), r.u64("section size"),
                   r.u64("section checksum")};
    if (!r.ok()) return parse_error("section table: {}", r.error());
    if (e.offset < table_end || e.offset > size || e.size > size - e.offset)
      return parse_error("section {} ({}): bytes [{}, +{}) lie outside the file", e.id, section_name(e.id), e.offset,
                         e.size);
    if ((e.flags & ~(kRequired | kChecksummed)) != 0 || (!(e.flags & kChecksummed) && e.checksum != 0))
      return parse_error("section {} ({}): invalid flags {:#x}", e.id, section_name(e.id), e.flags);
    if (!sections.emplace(e.id, e).second) return parse_error("section {} appears twice", section_name(e.id));
  }
  return Status::ok();
}

// The bytes of a known section, checksum verified.
Result<std::pair<const uint8_t*, size_t>> section(const uint8_t* data, const std::map<uint32_t, SectionEntry>& table,
                                                  SectionId id) {
  auto it = table.find(static_cast<uint32_t>(id));
  if (it == table.end()) return parse_error("has no {} section", section_name(static_cast<uint32_t>(id)));
  const SectionEntry& e = it->second;
  const uint8_t* bytes = data + e.offset;
  // Only the weights go unchecked (verifying them would read every byte at load).
  if (id != SectionId::kWeights && !(e.flags & kChecksummed))
    return parse_error("{} section has no checksum", section_name(e.id));
  if ((e.flags & kChecksummed) && fnv1a64(bytes, e.size) != e.checksum)
    return parse_error("{} section is corrupt (checksum mismatch)", section_name(e.id));
  return std::make_pair(bytes, static_cast<size_t>(e.size));
}

Result<EngineContents> read_sections(const uint8_t* data, size_t size, std::shared_ptr<const void> owner) {
  std::map<uint32_t, SectionEntry> table;
  FULCRUM_RETURN_IF_ERROR(read_table(data, size, table));
  for (const auto& [id, e] : table)
    if (id < static_cast<uint32_t>(SectionId::kMetadata) || id > static_cast<uint32_t>(SectionId::kPrecision))
      if (e.flags & kRequired)
        return parse_error("needs section {}, which this Fulcrum ({}) does not know: it was built by a newer one", id,
                           version_string());
  EngineContents out;
  FULCRUM_ASSIGN_OR_RETURN(auto meta, section(data, table, SectionId::kMetadata));
  ByteReader meta_reader(meta.first, meta.second);
  FULCRUM_RETURN_IF_ERROR(decode_metadata(meta_reader, out.metadata).with_context("METADATA section"));
  FULCRUM_ASSIGN_OR_RETURN(auto config, section(data, table, SectionId::kConfig));
  ByteReader config_reader(config.first, config.second);
  FULCRUM_RETURN_IF_ERROR(decode_config(config_reader, out.config).with_context("CONFIG section"));
  FULCRUM_ASSIGN_OR_RETURN(auto weights, section(data, table, SectionId::kWeights));
  if (reinterpret_cast<uintptr_t>(weights.first) % kWeightAlignment != 0)
    return parse_error("WEIGHTS section is not {}-byte aligned", kWeightAlignment);
  FULCRUM_ASSIGN_OR_RETURN(auto graph, section(data, table, SectionId::kGraph));
  auto decoded = decode_graph(graph.first, graph.second, weights.first, weights.second, std::move(owner));
  if (!decoded.is_ok()) return decoded.status().with_context("GRAPH section");
  if (table.count(static_cast<uint32_t>(SectionId::kPrecision)) > 0) {  // files before it lack it
    FULCRUM_ASSIGN_OR_RETURN(auto precision, section(data, table, SectionId::kPrecision));
    ByteReader precision_reader(precision.first, precision.second);
    FULCRUM_RETURN_IF_ERROR(decode_precision(precision_reader, **decoded).with_context("PRECISION section"));
  }
  out.graph = std::move(decoded).value();
  return out;
}

}  // namespace

Result<EngineContents> read_engine(const uint8_t* data, size_t size, std::shared_ptr<const void> owner,
                                   const std::string& name) {
  auto contents = read_sections(data, size, std::move(owner));
  if (!contents.is_ok()) return contents.status().with_context(name);
  return contents;
}

Result<EngineContents> read_engine_file(const std::string& path) {
  FULCRUM_ASSIGN_OR_RETURN(auto mapping, map_file(path));
  return read_engine(static_cast<const uint8_t*>(mapping->addr), mapping->size, mapping, path);
}

}  // namespace fulcrum::plan
