// im2col and its adjoint col2im: the data movement that turns a convolution into a matrix
// product (see gemm.h), for any number of spatial axes.
#pragma once

#include <cstdint>

#include "ops/conv.h"

namespace fulcrum::backends::reference {

// Copies the windows of one image (channels x g.in, row-major) into `col`, a matrix of
// (channels * g.kernel_size()) rows by g.out_size() columns: row (c, kernel offset),
// column = output position. Window positions in the padding read as 0.
template <class T>
void im2col(const T* image, int64_t channels, const ops::WindowGeometry& g, T* col);

// The adjoint of im2col: adds every entry of `col` into the image position it was read
// from; entries that fall in the padding are dropped. `image` must be initialised.
template <class T>
void col2im(const T* col, int64_t channels, const ops::WindowGeometry& g, T* image);

}  // namespace fulcrum::backends::reference
