#include "backends/cpu/layout_choice.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace fulcrum::backends::cpu {

int64_t preferred_channel_block() {
  // cpu_isa values are ordered feature sets: avx512_core and beyond include AVX-512F.
  const auto isa = static_cast<int>(dnnl::get_effective_cpu_isa());
  return (isa & static_cast<int>(dnnl::cpu_isa::avx512_core)) == static_cast<int>(dnnl::cpu_isa::avx512_core) ? 16 : 8;
}

}  // namespace fulcrum::backends::cpu
