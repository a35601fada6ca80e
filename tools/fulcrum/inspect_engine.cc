// fulcrum inspect ENGINE.fulcrum: where an engine file came from, what it was built for and
// the layers it runs (after the build passes: fused layers keep their anchor's ONNX name).
#include <ctime>
#include <map>
#include <string>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {
namespace {

std::string utc_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + (n.empty() ? std::string("-") : n);
  return s;
}

void print_metadata(const std::string& path, const EngineFileInfo& info) {
  std::printf("engine: %s (%s)\n", path.c_str(), human_bytes(info.file_bytes).c_str());
  std::printf("format: version %u, built by Fulcrum %s on %s in %.1f ms\n", info.format_version,
              info.fulcrum_version.c_str(), utc_time(info.created_unix).c_str(), info.build_ms);
  if (info.source_name.empty())
    std::printf("source: unknown\n");
  else
    std::printf("source: %s (%llu bytes, %s)\n", info.source_name.c_str(),
                static_cast<unsigned long long>(info.source_size), info.source_fingerprint.c_str());
  std::printf("config: backend %s, threads %s\n", backend_name(info.config.backend).c_str(),
              info.config.threads == 0 ? "every core" : std::to_string(info.config.threads).c_str());
  const BuilderConfig& c = info.config;
  std::printf("precision: fp32%s%s%s%s\n", c.fp16 ? " + fp16" : "", c.int8 ? " + int8" : "",
              c.fp16_numerics ? " (fp16 numerics)" : "",
              c.calibration_cache.empty() ? "" : (", calibration cache " + c.calibration_cache).c_str());
}

}  // namespace

int inspect_engine_file(const std::string& path, bool layers) {
  auto loaded = Runtime::inspect_engine_file(path);
  if (!loaded.is_ok()) return fail(loaded.status().message());
  const EngineFileInfo& info = *loaded;
  print_metadata(path, info);

  std::printf("\ninputs:\n");
  for (const TensorDesc& d : info.inputs) std::printf("  %-30s %s\n", d.name.c_str(), describe_tensor(d).c_str());
  std::printf("outputs:\n");
  for (const TensorDesc& d : info.outputs) std::printf("  %-30s %s\n", d.name.c_str(), describe_tensor(d).c_str());

  std::map<std::pair<std::string, std::string>, int> by_op;
  for (const LayerDesc& l : info.layers) ++by_op[{qualified_op(l), precision_name(l.precision)}];
  std::printf("\nweights: %s\nlayers: %zu (%s)\n", human_bytes(info.weight_bytes).c_str(), info.layers.size(),
              precision_mix(info.layers).c_str());
  for (const auto& [op, count] : by_op) std::printf("  %-28s %4d  %s\n", op.first.c_str(), count, op.second.c_str());
  if (!layers) {
    std::printf("\n(--layers lists every layer)\n");
    return 0;
  }
  std::printf("\n");
  for (const LayerDesc& l : info.layers) {
    std::string op = qualified_op(l);
    std::printf("  %-30s %-24s %-5s (%s) -> (%s)\n", l.name.c_str(), op.c_str(), precision_name(l.precision),
                join(l.inputs).c_str(), join(l.outputs).c_str());
    if (!l.precision_reason.empty()) std::printf("  %-30s   why: %s\n", "", l.precision_reason.c_str());
  }
  return 0;
}

}  // namespace fulcrum::cli
