// Builder::build_serialized and Runtime: the engine file through the public API. Building
// runs the same optimization as Builder::build and stores its result; loading skips it and
// only creates the kernels (which pack the weights), so a loaded engine computes exactly
// what a freshly built one does.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "fulcrum/engine.h"
#include "fulcrum/version.h"
#include "ir/graph.h"
#include "plan/engine_file.h"
#include "runtime/engine_impl.h"
#include "runtime/tensor_desc.h"

namespace fulcrum {
namespace {

Result<plan::EngineContents> build_contents(const Network& network, const BuilderConfig& config,
                                            const SerializeOptions& options) {
  if (config.threads < 0) return invalid_argument("threads must be >= 0, got {}", config.threads);
  plan::EngineContents contents;
  plan::EngineMetadata& meta = contents.metadata;
  meta.fulcrum_version = version_string();
  meta.created_unix = static_cast<int64_t>(std::time(nullptr));
  if (!options.source_model.empty()) {
    std::error_code ec;
    meta.source_name = std::filesystem::path(options.source_model).filename().string();
    meta.source_size = std::filesystem::file_size(options.source_model, ec);
    if (ec) return io_error("{}: cannot read the source model: {}", options.source_model, ec.message());
    FULCRUM_ASSIGN_OR_RETURN(meta.source_fnv1a, plan::fnv1a64_file(options.source_model));
  }
  auto start = std::chrono::steady_clock::now();
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<ir::Graph> optimized, runtime::optimize(*network.graph(), config));
  meta.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  contents.config = config;
  contents.graph = std::move(optimized);
  return contents;
}

// An engine file's engine is created only by the Fulcrum that built it: internal ops (domain
// "fulcrum") and their attributes carry no version of their own, as TensorRT's plans don't.
Result<std::unique_ptr<Engine>> create_loaded(plan::EngineContents contents, const RuntimeOptions& options,
                                              const std::string& name) {
  if (contents.metadata.fulcrum_version != version_string())
    return invalid_argument("{}: engine built by Fulcrum {}, this is Fulcrum {}: rebuild it with `fulcrum build`", name,
                            contents.metadata.fulcrum_version, version_string());
  if (options.threads < -1) return invalid_argument("threads must be >= 0, got {}", options.threads);
  BuilderConfig config = contents.config;
  if (options.threads >= 0) config.threads = options.threads;
  auto engine = runtime::create_engine(std::move(contents.graph), config);
  if (!engine.is_ok()) return engine.status().with_context(name);
  return engine;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Result<std::vector<uint8_t>> Builder::build_serialized(const Network& network, const BuilderConfig& config,
                                                       const SerializeOptions& options) {
  FULCRUM_ASSIGN_OR_RETURN(plan::EngineContents contents, build_contents(network, config, options));
  std::vector<uint8_t> bytes;
  FULCRUM_RETURN_IF_ERROR(plan::write_engine(contents, [&](const void* data, size_t size) {
    bytes.insert(bytes.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
    return Status::ok();
  }));
  return bytes;
}

Status Builder::build_serialized(const Network& network, const BuilderConfig& config, const SerializeOptions& options,
                                 const std::string& path) {
  FULCRUM_ASSIGN_OR_RETURN(plan::EngineContents contents, build_contents(network, config, options));
  return plan::write_engine_file(contents, path);
}

Result<std::unique_ptr<Engine>> Runtime::load_engine(const std::string& path) const {
  FULCRUM_ASSIGN_OR_RETURN(plan::EngineContents contents, plan::read_engine_file(path));
  return create_loaded(std::move(contents), options_, path);
}

Result<std::unique_ptr<Engine>> Runtime::deserialize(const std::vector<uint8_t>& bytes) const {
  // Tensor storage is 64-byte aligned, as the weight section must be.
  auto storage = std::make_shared<Tensor>(Tensor::zeros(DType::kUInt8, {static_cast<int64_t>(bytes.size())}));
  if (!bytes.empty()) std::memcpy(storage->mutable_raw(), bytes.data(), bytes.size());
  const auto* data = static_cast<const uint8_t*>(storage->raw());
  FULCRUM_ASSIGN_OR_RETURN(plan::EngineContents contents,
                           plan::read_engine(data, bytes.size(), storage, "serialized engine"));
  return create_loaded(std::move(contents), options_, "serialized engine");
}

bool Runtime::is_engine_file(const std::string& path) { return plan::is_engine_file(path); }

Result<EngineFileInfo> Runtime::inspect_engine_file(const std::string& path) {
  FULCRUM_ASSIGN_OR_RETURN(plan::EngineContents contents, plan::read_engine_file(path));
  const plan::EngineMetadata& m = contents.metadata;
  EngineFileInfo info;
  info.format_version = m.format_version;
  info.fulcrum_version = m.fulcrum_version;
  info.source_name = m.source_name;
  info.source_size = m.source_size;
  if (m.source_fnv1a != 0) info.source_fingerprint = "fnv1a64:" + hex64(m.source_fnv1a);
  info.created_unix = m.created_unix;
  info.build_ms = m.build_ms;
  info.config = contents.config;
  std::error_code ec;
  info.file_bytes = std::filesystem::file_size(path, ec);
  const ir::Graph& g = *contents.graph;
  for (const ir::Value* v : g.constants()) info.weight_bytes += v->constant.nbytes();
  for (const ir::Value* v : g.inputs) info.inputs.push_back(runtime::describe(*v));
  for (const ir::Value* v : g.outputs) info.outputs.push_back(runtime::describe(*v));
  for (const auto& n : g.nodes()) {
    LayerDesc d{n->name, n->op_type, n->domain, {}, {}};
    for (const ir::Value* v : n->inputs) d.inputs.push_back(v ? v->name() : "");
    for (const ir::Value* v : n->outputs) d.outputs.push_back(v ? v->name() : "");
    d.precision = n->precision;
    d.precision_reason = n->precision_reason;
    info.layers.push_back(std::move(d));
  }
  return info;
}

}  // namespace fulcrum
