#include "core/float16_convert.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/float16.h"

namespace fulcrum {
namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

void to_halves_scalar(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}
void to_floats_scalar(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}
void round_scalar(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = half_to_float(float_to_half(in[i]));
}

// GCC 12's _mm512_cvtps_ph / _mm512_cvtph_ps start from an "undefined" register it then
// warns about (a false positive: every lane is written).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) void to_halves_avx512(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(in + i), kRound));
  to_halves_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx512f"))) void to_floats_avx512(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
  to_floats_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx512f"))) void round_avx512(const float* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(in + i), kRound)));
  if (i < n) {  // a masked tail keeps short rows (a 10-class logit vector) vectorized
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, in + i), kRound)));
  }
}

#pragma GCC diagnostic pop

__attribute__((target("avx,f16c"))) void to_halves_f16c(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), kRound));
  to_halves_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx,f16c"))) void to_floats_f16c(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  to_floats_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx,f16c"))) void round_f16c(const float* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(in + i), kRound)));
  round_scalar(in + i, out + i, n - i);
}

}  // namespace

Fp16Isa fp16_best_isa() {
  static const Fp16Isa best = __builtin_cpu_supports("avx512f")                                   ? Fp16Isa::kAvx512
                              : (__builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx")) ? Fp16Isa::kF16c
                                                                                                  : Fp16Isa::kScalar;
  return best;
}

void floats_to_halves(const float* in, uint16_t* out, size_t n, Fp16Isa isa) {
  switch (isa) {
    case Fp16Isa::kAvx512: return to_halves_avx512(in, out, n);
    case Fp16Isa::kF16c: return to_halves_f16c(in, out, n);
    case Fp16Isa::kScalar: return to_halves_scalar(in, out, n);
  }
}

void halves_to_floats(const uint16_t* in, float* out, size_t n, Fp16Isa isa) {
  switch (isa) {
    case Fp16Isa::kAvx512: return to_floats_avx512(in, out, n);
    case Fp16Isa::kF16c: return to_floats_f16c(in, out, n);
    case Fp16Isa::kScalar: return to_floats_scalar(in, out, n);
  }
}

void round_to_fp16(const float* in, float* out, size_t n, Fp16Isa isa) {
  switch (isa) {
    case Fp16Isa::kAvx512: return round_avx512(in, out, n);
    case Fp16Isa::kF16c: return round_f16c(in, out, n);
    case Fp16Isa::kScalar: return round_scalar(in, out, n);
  }
}

void floats_to_halves(const float* in, uint16_t* out, size_t n) { floats_to_halves(in, out, n, fp16_best_isa()); }
void halves_to_floats(const uint16_t* in, float* out, size_t n) { halves_to_floats(in, out, n, fp16_best_isa()); }
void round_to_fp16(const float* in, float* out, size_t n) { round_to_fp16(in, out, n, fp16_best_isa()); }

bool fp16_exact(const float* in, size_t n) {
  // In blocks, so an FP32 weight (inexact within its first values) costs almost nothing.
  constexpr size_t kBlock = 1024;
  float rounded[kBlock];
  for (size_t i = 0; i < n; i += kBlock) {
    const size_t m = std::min(kBlock, n - i);
    round_to_fp16(in + i, rounded, m);
    if (std::memcmp(in + i, rounded, m * sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace fulcrum
