#include "core/logging.h"

#include <atomic>
#include <cstdio>

namespace fulcrum {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kWarning};
}

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log_message(LogLevel level, const std::string& message) {
  static constexpr const char* kPrefix[] = {"error: ", "warning: ", "", ""};
  std::fprintf(stderr, "%s%s\n", kPrefix[static_cast<int>(level)], message.c_str());
}

}  // namespace fulcrum
