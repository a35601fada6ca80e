// The one matrix product every reference kernel with a contraction builds on (Conv via
// im2col, ConvTranspose via col2im, Gemm, MatMul and the integer variants).
//
// It is plain C++ the compiler vectorizes at the baseline ISA: a k-by-n panel of B is copied
// into a small contiguous buffer (cache blocking, and it absorbs transB and any leading
// dimension), then each group of four rows of C takes contiguous axpys over the panel's rows,
// two steps of k at a time (loop order i-k-j). Work splits across threads by rows or columns
// of C; every element of C is summed in the same order whatever the split, so results do
// not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>

#include "core/parallel.h"

namespace fulcrum::backends::reference {

// C = op(A) * op(B), overwriting C (m x n, row stride ldc). op(A) is m x k: A is stored
// row-major m x k (lda >= k), or k x m when trans_a (lda >= m). Likewise op(B) is k x n:
// k x n stored, or n x k when trans_b. Instantiated for float, double, int32/64, uint32/64.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
          T* c, int64_t ldc);

// The same product on the calling thread only, for callers that parallelise over many
// small products themselves.
template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                 int64_t ldb, T* c, int64_t ldc);

// Kernels built on the GEMM split their own loops the same way.
using ::fulcrum::parallel_for;

}  // namespace fulcrum::backends::reference
