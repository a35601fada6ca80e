// Status constructors with fmt formatting, for Fulcrum's own code.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "fulcrum/status.h"

namespace fulcrum {

#define FULCRUM_DEFINE_ERROR_(fn, code)                                                \
  template <class... Args>                                                             \
  Status fn(fmt::format_string<Args...> format, Args&&... args) {                      \
    return Status(StatusCode::code, fmt::format(format, std::forward<Args>(args)...)); \
  }

FULCRUM_DEFINE_ERROR_(invalid_argument, kInvalidArgument)
FULCRUM_DEFINE_ERROR_(not_found, kNotFound)
FULCRUM_DEFINE_ERROR_(unimplemented, kUnimplemented)
FULCRUM_DEFINE_ERROR_(parse_error, kParseError)
FULCRUM_DEFINE_ERROR_(io_error, kIoError)
FULCRUM_DEFINE_ERROR_(internal_error, kInternal)

#undef FULCRUM_DEFINE_ERROR_

}  // namespace fulcrum
