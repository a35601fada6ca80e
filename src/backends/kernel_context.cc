#include "backends/kernel_context.h"

#include "core/error.h"

namespace fulcrum::backends {

Status KernelContext::require_inputs(std::initializer_list<const char*> names) const {
  size_t i = 0;
  for (const char* name : names) {
    if (!has_input(i)) return invalid_argument("required input {} ('{}') is missing", i, name);
    ++i;
  }
  return Status::ok();
}

}  // namespace fulcrum::backends
