// Float32 math for the CPU backend's own kernels, written so the compiler vectorises the
// loops that call it: no libm calls, no branches, bit tricks through std::bit_cast. The
// library is built for baseline x86-64, so hot loops are compiled twice
// (FULCRUM_CPU_VECTOR_CLONES): an AVX2+FMA clone chosen at load time where the CPU has
// them, and the baseline SSE2 one elsewhere.
#pragma once

#include <bit>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FULCRUM_CPU_VECTOR_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define FULCRUM_CPU_VECTOR_CLONES
#endif
// The helpers below must inline into each clone to be vectorised with it.
#define FULCRUM_CPU_INLINE inline __attribute__((always_inline))

namespace fulcrum::backends::cpu {

// A float's bits as an int32 that orders like the float (negative floats have their
// magnitude bits flipped); the map is its own inverse.
FULCRUM_CPU_INLINE int32_t ordered_bits(int32_t i) { return i ^ ((i >> 31) & 0x7fffffff); }

// min(max(x, lo), hi), compared as ordered integers: float selects may trap, which keeps GCC
// from vectorising them, and std::min does not inline into a clone of another target.
FULCRUM_CPU_INLINE float clamp_f(float x, float lo, float hi) {
  int32_t k = ordered_bits(std::bit_cast<int32_t>(x));
  const int32_t k_lo = ordered_bits(std::bit_cast<int32_t>(lo)), k_hi = ordered_bits(std::bit_cast<int32_t>(hi));
  k = k < k_lo ? k_lo : k;
  k = k > k_hi ? k_hi : k;
  return std::bit_cast<float>(ordered_bits(k));
}

// e^x to about 2 ulp over [-87, 88] (Cephes' expf polynomial); the input is clamped there,
// so -inf gives e^-87 ~ 1.6e-38 rather than 0 and +inf gives e^88.
FULCRUM_CPU_INLINE float exp_approx(float x) {
  x = clamp_f(x, -87.0f, 88.0f);
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (round-to-nearest, as the FPU is set): t's
  // low mantissa bits then hold n as an integer, which builds 2^n without a conversion.
  constexpr float kRound = 12582912.0f;
  const float t = x * 1.44269504088896341f + kRound;
  const float n = t - kRound;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // x - n ln2, ln2 split in two
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRound) + 127) << 23;  // 2^n
  return p * std::bit_cast<float>(bits);
}

// erf(x) to a few ulp: a rational approximation on [-4, 4] (Eigen's and XLA's), where
// float32 erf saturates to +-1 outside.
FULCRUM_CPU_INLINE float erf_approx(float x) {
  x = clamp_f(x, -4.0f, 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

// GELU with the exact (erf) form: x/2 (1 + erf(x / sqrt 2)).
FULCRUM_CPU_INLINE float gelu_erf(float x) { return 0.5f * x * (1.0f + erf_approx(x * 0.70710678118654752f)); }

// Row reductions with kLanes partial results, combined at the end: a float sum in one
// accumulator is a serial dependence the compiler may not reorder, so it would not
// vectorise. (The order of additions differs from a sequential sum, by rounding only.)
inline constexpr int64_t kLanes = 16;

FULCRUM_CPU_INLINE float row_sum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += x[i + j];
  float sum = 0;
  for (; i < n; ++i) sum += x[i];
  for (int64_t j = 0; j < kLanes; ++j) sum += acc[j];
  return sum;
}

// sum((x - c)^2)
FULCRUM_CPU_INLINE float row_sum_sq_dev(const float* x, float c, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += (x[i + j] - c) * (x[i + j] - c);
  float sum = 0;
  for (; i < n; ++i) sum += (x[i] - c) * (x[i] - c);
  for (int64_t j = 0; j < kLanes; ++j) sum += acc[j];
  return sum;
}

// The largest of n >= 1 values, compared as ordered integers (see clamp_f). A NaN sorts
// above every number (or below, with its sign bit set), so it is returned as the maximum.
FULCRUM_CPU_INLINE float row_max(const float* x, int64_t n) {
  int32_t acc[kLanes];
  const int32_t first = ordered_bits(std::bit_cast<int32_t>(x[0]));
  for (int64_t j = 0; j < kLanes; ++j) acc[j] = first;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) {
      const int32_t k = ordered_bits(std::bit_cast<int32_t>(x[i + j]));
      acc[j] = k > acc[j] ? k : acc[j];
    }
  int32_t best = first;
  for (; i < n; ++i) {
    const int32_t k = ordered_bits(std::bit_cast<int32_t>(x[i]));
    best = k > best ? k : best;
  }
  for (int64_t j = 0; j < kLanes; ++j) best = acc[j] > best ? acc[j] : best;
  return std::bit_cast<float>(ordered_bits(best));
}

}  // namespace fulcrum::backends::cpu
