#include "backends/reference/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

namespace fulcrum::backends::reference {
namespace {

// A kBlockK x kBlockN panel of B is 128 KiB of floats: it stays in L2 while every row of
// A streams past it, and four 1 KiB rows of C stay in L1 across the whole panel.
constexpr int64_t kBlockN = 256;
constexpr int64_t kBlockK = 128;

// Element (r, c) of op(M), where op transposes when `trans`.
template <class T>
struct Operand {
  const T* p;
  int64_t ld;
  bool trans;
  T at(int64_t r, int64_t c) const { return trans ? p[c * ld + r] : p[r * ld + c]; }
};

// Four rows of C take c_r += a_r0 * b0 + a_r1 * b1: two steps of k at once halve the
// loads and stores of C, which bound this loop. Contiguous and restrict-qualified, so the
// compiler turns it into SIMD multiplies and adds; each row of B is loaded once for four
// rows of C.
template <class T>
void axpy4x2(int64_t n, const T (&a)[4][2], const T* __restrict b0, const T* __restrict b1, T* __restrict c0,
             T* __restrict c1, T* __restrict c2, T* __restrict c3) {
  const T a00 = a[0][0], a01 = a[0][1], a10 = a[1][0], a11 = a[1][1];
  const T a20 = a[2][0], a21 = a[2][1], a30 = a[3][0], a31 = a[3][1];
  for (int64_t j = 0; j < n; ++j) {
    const T x0 = b0[j];
    const T x1 = b1[j];
    c0[j] += a00 * x0 + a01 * x1;
    c1[j] += a10 * x0 + a11 * x1;
    c2[j] += a20 * x0 + a21 * x1;
    c3[j] += a30 * x0 + a31 * x1;
  }
}

// The odd last step of k for four rows.
template <class T>
void axpy4x1(int64_t n, T a0, T a1, T a2, T a3, const T* __restrict b, T* __restrict c0, T* __restrict c1,
             T* __restrict c2, T* __restrict c3) {
  for (int64_t j = 0; j < n; ++j) {
    c0[j] += a0 * b[j];
    c1[j] += a1 * b[j];
    c2[j] += a2 * b[j];
    c3[j] += a3 * b[j];
  }
}

template <class T>
void axpy1(int64_t n, T a0, const T* __restrict b, T* __restrict c0) {
  for (int64_t j = 0; j < n; ++j) c0[j] += a0 * b[j];
}

// Copies op(B)[k0:k0+kb, j0:j0+nb] into `panel` (kb x nb, row-major).
template <class T>
void pack_panel(const Operand<T>& b, int64_t k0, int64_t kb, int64_t j0, int64_t nb, T* panel) {
  if (!b.trans) {
    for (int64_t kk = 0; kk < kb; ++kk) std::copy_n(b.p + (k0 + kk) * b.ld + j0, nb, panel + kk * nb);
    return;
  }
  for (int64_t j = 0; j < nb; ++j)
    for (int64_t kk = 0; kk < kb; ++kk) panel[kk * nb + j] = b.p[(j0 + j) * b.ld + k0 + kk];
}

// C[i0:i1, j0:j0+nb] += op(A)[i0:i1, k0:k0+kb] * panel.
template <class T>
void multiply_panel(const Operand<T>& a, int64_t i0, int64_t i1, int64_t k0, int64_t kb, const T* panel, int64_t nb,
                    T* c, int64_t ldc) {
  int64_t i = i0;
  for (; i + 4 <= i1; i += 4) {
    T* c0 = c + i * ldc;
    int64_t kk = 0;
    for (; kk + 2 <= kb; kk += 2) {
      const T a4[4][2] = {{a.at(i, k0 + kk), a.at(i, k0 + kk + 1)},
                          {a.at(i + 1, k0 + kk), a.at(i + 1, k0 + kk + 1)},
                          {a.at(i + 2, k0 + kk), a.at(i + 2, k0 + kk + 1)},
                          {a.at(i + 3, k0 + kk), a.at(i + 3, k0 + kk + 1)}};
      axpy4x2(nb, a4, panel + kk * nb, panel + (kk + 1) * nb, c0, c0 + ldc, c0 + 2 * ldc, c0 + 3 * ldc);
    }
    if (kk < kb)
      axpy4x1(nb, a.at(i, k0 + kk), a.at(i + 1, k0 + kk), a.at(i + 2, k0 + kk), a.at(i + 3, k0 + kk), panel + kk * nb,
              c0, c0 + ldc, c0 + 2 * ldc, c0 + 3 * ldc);
  }
  for (; i < i1; ++i)
    for (int64_t kk = 0; kk < kb; ++kk) axpy1(nb, a.at(i, k0 + kk), panel + kk * nb, c + i * ldc);
}

// C[i0:i1, j0:j1] = op(A)[i0:i1, :] * op(B)[:, j0:j1] on this thread.
template <class T>
void gemm_tile(const Operand<T>& a, const Operand<T>& b, int64_t k, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
               T* c, int64_t ldc) {
  std::vector<T> panel(static_cast<size_t>(std::min(k, kBlockK) * std::min(j1 - j0, kBlockN)));
  for (int64_t jb = j0; jb < j1; jb += kBlockN) {
    const int64_t nb = std::min(kBlockN, j1 - jb);
    for (int64_t i = i0; i < i1; ++i) std::fill_n(c + i * ldc + jb, nb, T{0});
    for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
      const int64_t kb = std::min(kBlockK, k - k0);
      pack_panel(b, k0, kb, jb, nb, panel.data());
      multiply_panel(a, i0, i1, k0, kb, panel.data(), nb, c + jb, ldc);
    }
  }
}

}  // namespace

template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                 int64_t ldb, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  gemm_tile(Operand<T>{a, lda, trans_a}, Operand<T>{b, ldb, trans_b}, k, 0, m, 0, n, c, ldc);
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
          T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const Operand<T> pa{a, lda, trans_a};
  const Operand<T> pb{b, ldb, trans_b};
  const int64_t work = m * n * std::max<int64_t>(k, 1);
  // Split the longer side of C: rows in fours (the axpy4 grouping), columns in sixteens.
  if (n >= m) {
    constexpr int64_t kStep = 16;
    parallel_for((n + kStep - 1) / kStep, work, [&](int64_t begin, int64_t end) {
      gemm_tile(pa, pb, k, 0, m, begin * kStep, std::min(n, end * kStep), c, ldc);
    });
  } else {
    constexpr int64_t kStep = 4;
    parallel_for((m + kStep - 1) / kStep, work, [&](int64_t begin, int64_t end) {
      gemm_tile(pa, pb, k, begin * kStep, std::min(m, end * kStep), 0, n, c, ldc);
    });
  }
}

#define FULCRUM_INSTANTIATE_GEMM_(T)                                                                               \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t); \
  template void gemm_serial<T>(bool, bool, int64_t, int64_t, int64_t, const T*, int64_t, const T*, int64_t, T*,    \
                               int64_t);
FULCRUM_INSTANTIATE_GEMM_(float)
FULCRUM_INSTANTIATE_GEMM_(double)
FULCRUM_INSTANTIATE_GEMM_(int32_t)
FULCRUM_INSTANTIATE_GEMM_(int64_t)
FULCRUM_INSTANTIATE_GEMM_(uint32_t)
FULCRUM_INSTANTIATE_GEMM_(uint64_t)
#undef FULCRUM_INSTANTIATE_GEMM_

}  // namespace fulcrum::backends::reference
