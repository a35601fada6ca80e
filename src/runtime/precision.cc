// Precision names, --layer-precisions parsing and the CPU's capability queries.
#include "fulcrum/precision.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <sstream>

namespace fulcrum {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFp16: return "fp16";
    case Precision::kInt8: return "int8";
    default: return "fp32";
  }
}

bool parse_precision(const std::string& text, Precision& out) {
  for (Precision p : {Precision::kFp32, Precision::kFp16, Precision::kInt8})
    if (text == precision_name(p)) {
      out = p;
      return true;
    }
  return false;
}

const char* constraints_name(PrecisionConstraints c) {
  switch (c) {
    case PrecisionConstraints::kPrefer: return "prefer";
    case PrecisionConstraints::kObey: return "obey";
    default: return "none";
  }
}

bool parse_constraints(const std::string& text, PrecisionConstraints& out) {
  for (PrecisionConstraints c :
       {PrecisionConstraints::kNone, PrecisionConstraints::kPrefer, PrecisionConstraints::kObey})
    if (text == constraints_name(c)) {
      out = c;
      return true;
    }
  return false;
}

bool parse_layer_precisions(const std::string& text, std::vector<LayerPrecision>& out, std::string& error) {
  std::vector<LayerPrecision> parsed;
  std::stringstream entries(text);
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    // The precision follows the last ':', so a pattern may itself contain ':'.
    const size_t colon = entry.rfind(':');
    LayerPrecision lp;
    if (colon == std::string::npos || colon == 0 || !parse_precision(entry.substr(colon + 1), lp.precision)) {
      error = "bad layer precision \"" + entry + "\": expected PATTERN:fp32|fp16|int8, e.g. \"/head/*:fp32\"";
      return false;
    }
    lp.pattern = entry.substr(0, colon);
    parsed.push_back(std::move(lp));
  }
  if (parsed.empty()) {
    error = "no layer precisions given";
    return false;
  }
  out.insert(out.end(), parsed.begin(), parsed.end());
  return true;
}

namespace {

dnnl::cpu_isa isa() { return dnnl::get_effective_cpu_isa(); }

bool has(dnnl::cpu_isa want) {
  // oneDNN's ISA values are nested bit masks: an ISA includes every one whose bits it holds.
  const auto have = static_cast<unsigned>(isa()), need = static_cast<unsigned>(want);
  return (have & need) == need;
}

}  // namespace

bool platform_has_fast_int8() {
  // u8 x s8 multiply-add in one instruction (VNNI), or AVX2's vpmaddubsw pair.
  return has(dnnl::cpu_isa::avx512_core_vnni) || has(dnnl::cpu_isa::avx2_vnni) || has(dnnl::cpu_isa::avx2);
}

bool platform_has_fast_fp16() {
  // oneDNN 2.6 has no FP16 arithmetic kernels for x86 CPUs (AVX512-FP16 came in 3.x).
  return false;
}

std::string cpu_isa_name() {
  using dnnl::cpu_isa;
  const std::pair<cpu_isa, const char*> names[] = {{cpu_isa::avx512_core_amx, "avx512_core_amx"},
                                                   {cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
                                                   {cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
                                                   {cpu_isa::avx512_core, "avx512_core"},
                                                   {cpu_isa::avx2_vnni, "avx2_vnni"},
                                                   {cpu_isa::avx2, "avx2"},
                                                   {cpu_isa::avx, "avx"},
                                                   {cpu_isa::sse41, "sse41"}};
  for (const auto& [i, name] : names)
    if (has(i)) return name;
  return "unknown";
}

}  // namespace fulcrum
