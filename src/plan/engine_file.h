// The engine file (.fulcrum): an optimized graph with its weights, the builder config and
// where it came from, so an engine is built once and loaded many times. The layout (a
// header, a table of sections, 64-byte-aligned weights) is documented in docs/engine_file.md.
// Loading maps the file and the constants view the mapping: weights are not copied.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/engine.h"
#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::plan {

// "FULCRUM\0": the first 8 bytes of every engine file.
inline constexpr char kEngineMagic[8] = {'F', 'U', 'L', 'C', 'R', 'U', 'M', '\0'};
// Bumped on every change a reader of the previous version would misread. A reader accepts
// exactly its own version; new optional sections do not need a bump (see the docs).
inline constexpr uint32_t kEngineFormatVersion = 1;

// Section ids (fixed numbers: never reuse one).
// PRECISION (optional: an older reader skips it) holds each layer's precision and reason.
enum class SectionId : uint32_t { kMetadata = 1, kConfig = 2, kGraph = 3, kWeights = 4, kPrecision = 5 };

// Where the engine came from and who built it.
struct EngineMetadata {
  uint32_t format_version = kEngineFormatVersion;
  std::string fulcrum_version;  // version_string() of the Fulcrum that built it
  std::string source_name;      // file name of the source model ("" if unknown)
  uint64_t source_size = 0;     // its size in bytes
  uint64_t source_fnv1a = 0;    // FNV-1a 64 of its bytes (0 if unknown)
  int64_t created_unix = 0;     // build time, seconds since 1970 UTC
  double build_ms = 0;          // how long optimizing took
};

struct EngineContents {
  EngineMetadata metadata;
  BuilderConfig config;
  std::shared_ptr<const ir::Graph> graph;
};

// FNV-1a 64 of a byte range, continuing from `hash` (start with kFnv1aBasis).
inline constexpr uint64_t kFnv1aBasis = 14695981039346656037ull;
uint64_t fnv1a64(const void* data, size_t size, uint64_t hash = kFnv1aBasis);
// FNV-1a 64 of a whole file (mapped, not read into memory).
Result<uint64_t> fnv1a64_file(const std::string& path);

// Receives the file's bytes in order.
using ByteSink = std::function<Status(const void* data, size_t size)>;
Status write_engine(const EngineContents& contents, const ByteSink& sink);
Status write_engine_file(const EngineContents& contents, const std::string& path);

// Whether `path` starts with the engine magic (false for an unreadable or short file).
bool is_engine_file(const std::string& path);

// Reads and validates an engine: the graph's constants view `data`, which `owner` keeps
// alive. `name` (the file) is what errors are about.
Result<EngineContents> read_engine(const uint8_t* data, size_t size, std::shared_ptr<const void> owner,
                                   const std::string& name);
// Maps the file and reads it.
Result<EngineContents> read_engine_file(const std::string& path);

}  // namespace fulcrum::plan
