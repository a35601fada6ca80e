// Bulk FP16 conversions, vectorized with F16C (AVX-512 where present): what an FP16 engine
// stores, for FP16 weight storage and for rounding activations to FP16 on a CPU that has no
// FP16 arithmetic. Round to nearest even, as core/float16.h's scalar conversions (which the
// tails use); values beyond FP16's range become infinities. Only NaN payloads may differ
// between the vector and scalar paths.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulcrum {

void floats_to_halves(const float* in, uint16_t* out, size_t n);
void halves_to_floats(const uint16_t* in, float* out, size_t n);
// out[i] = the FP16 value nearest in[i], widened back to float. `in` may equal `out`.
void round_to_fp16(const float* in, float* out, size_t n);
// Whether every value survives a round trip through FP16 bit for bit (NaNs with a payload
// FP16 cannot hold do not).
bool fp16_exact(const float* in, size_t n);

// The same on a chosen path (for tests; the functions above take the best this CPU has).
// `isa` must not exceed fp16_best_isa().
enum class Fp16Isa { kScalar, kF16c, kAvx512 };
Fp16Isa fp16_best_isa();
void floats_to_halves(const float* in, uint16_t* out, size_t n, Fp16Isa isa);
void halves_to_floats(const uint16_t* in, float* out, size_t n, Fp16Isa isa);
void round_to_fp16(const float* in, float* out, size_t n, Fp16Isa isa);

}  // namespace fulcrum
