// Minimal leveled logging to stderr. The CLI sets the level (--verbose / --quiet).
#pragma once

#include <fmt/format.h>

namespace fulcrum {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kVerbose = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, const std::string& message);

template <class... Args>
void log_warning(fmt::format_string<Args...> format, Args&&... args) {
  if (log_level() >= LogLevel::kWarning)
    log_message(LogLevel::kWarning, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  if (log_level() >= LogLevel::kInfo) log_message(LogLevel::kInfo, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void log_verbose(fmt::format_string<Args...> format, Args&&... args) {
  if (log_level() >= LogLevel::kVerbose)
    log_message(LogLevel::kVerbose, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace fulcrum
