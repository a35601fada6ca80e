// Precision: what a layer computes in, and how a user asks for it (TensorRT's BuilderFlag::kFP16
// / kINT8, ILayer::setPrecision and the precision constraints).
#pragma once

#include <string>
#include <vector>

namespace fulcrum {

enum class Precision {
  kFp32,
  kFp16,  // FP16 weights (and, in FP16-numerics mode, FP16-rounded activations)
  kInt8,  // symmetric INT8: per-tensor activation scales, per-output-channel weight scales
};

// "fp32", "fp16", "int8", and back (parse fails on anything else).
const char* precision_name(Precision p);
bool parse_precision(const std::string& text, Precision& out);

// How requested layer precisions (LayerPrecision) bind the builder.
enum class PrecisionConstraints {
  kNone,    // requests are ignored: the builder picks from what the flags permit
  kPrefer,  // honoured where a kernel exists, else the builder falls back and warns
  kObey,    // honoured, or the build fails naming every layer it cannot honour
};

const char* constraints_name(PrecisionConstraints c);
bool parse_constraints(const std::string& text, PrecisionConstraints& out);

// One request: layers whose ONNX node name matches `pattern` (a glob: `*` any run of
// characters, `?` one character) run in `precision`. Later requests win; `*` sets the default.
struct LayerPrecision {
  std::string pattern;
  Precision precision = Precision::kFp32;
};

// Parses "/head/*:fp32,*:int8" (the CLI's --layer-precisions). Errors name the bad entry.
bool parse_layer_precisions(const std::string& text, std::vector<LayerPrecision>& out, std::string& error);

// Capability queries (TensorRT's platformHasFastFp16 / platformHasFastInt8), for the CPU
// backend: fast INT8 needs VNNI or at least AVX2's u8 x s8 multiply-add; fast FP16 needs
// FP16 arithmetic (AVX512-FP16), which most x86 CPUs lack.
bool platform_has_fast_int8();
bool platform_has_fast_fp16();
// The CPU's instruction set as oneDNN sees it ("avx512_core_vnni", "avx2", ...).
std::string cpu_isa_name();

}  // namespace fulcrum
