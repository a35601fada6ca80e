#include "backends/reference/conv_im2col.h"

#include <algorithm>
#include <vector>

#include "ops/shape_utils.h"

namespace fulcrum::backends::reference {
namespace {

// One line of `col`: the output positions along the last spatial axis for one channel,
// one kernel offset and one position on the leading axes. Output position o reads image
// element image_line + first + (o - lo) * step for o in [lo, hi); the rest is padding.
struct WindowLine {
  int64_t col_offset;  // where the line starts in col
  int64_t image_line;  // offset of the image row it reads, or -1 when that row is padding
  int64_t lo, hi;
  int64_t first;
  int64_t step;
};

// Calls fn(const WindowLine&) for every line of the column matrix, in col order.
template <class Fn>
void for_each_window_line(int64_t channels, const ops::WindowGeometry& g, Fn&& fn) {
  const size_t rank = g.rank();
  const size_t last = rank - 1;
  const int64_t out_last = g.out[last];
  const int64_t in_last = g.in[last];
  const int64_t lines = out_last == 0 ? 0 : g.out_size() / out_last;
  const int64_t kernel_size = g.kernel_size();
  const std::vector<int64_t> in_strides = ops::strides_of(g.in);
  const std::vector<int64_t> k_strides = ops::strides_of(g.kernel);
  const std::vector<int64_t> line_strides = ops::strides_of(std::vector<int64_t>(g.out.begin(), g.out.end() - 1));
  WindowLine line{};
  line.step = g.strides[last];
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t kidx = 0; kidx < kernel_size; ++kidx) {
      // Along the last axis, input x = o * stride + off must land in [0, in_last).
      const int64_t k_last = kidx % g.kernel[last];
      const int64_t off = k_last * g.dilations[last] - g.pad_begin[last];
      line.lo = std::clamp<int64_t>(ops::floor_div(-off + line.step - 1, line.step), 0, out_last);
      line.hi = std::clamp<int64_t>(ops::floor_div(in_last - 1 - off, line.step) + 1, line.lo, out_last);
      line.first = line.lo * line.step + off;
      for (int64_t l = 0; l < lines; ++l) {
        line.col_offset = ((c * kernel_size + kidx) * lines + l) * out_last;
        int64_t offset = c * g.in_size();
        for (size_t d = 0; d < last && offset >= 0; ++d) {
          const int64_t o = (l / line_strides[d]) % g.out[d];
          const int64_t k = (kidx / k_strides[d]) % g.kernel[d];
          const int64_t x = o * g.strides[d] + k * g.dilations[d] - g.pad_begin[d];
          offset = (x < 0 || x >= g.in[d]) ? -1 : offset + x * in_strides[d];
        }
        line.image_line = offset;
        fn(line);
      }
    }
  }
}

}  // namespace

template <class T>
void im2col(const T* image, int64_t channels, const ops::WindowGeometry& g, T* col) {
  const int64_t out_last = g.out.back();
  for_each_window_line(channels, g, [&](const WindowLine& w) {
    T* dst = col + w.col_offset;
    if (w.image_line < 0) {
      std::fill_n(dst, out_last, T{0});
      return;
    }
    std::fill_n(dst, w.lo, T{0});
    const T* src = image + w.image_line + w.first;
    if (w.step == 1) {
      std::copy(src, src + (w.hi - w.lo), dst + w.lo);
    } else {
      for (int64_t o = w.lo; o < w.hi; ++o) dst[o] = src[(o - w.lo) * w.step];
    }
    std::fill(dst + w.hi, dst + out_last, T{0});
  });
}

template <class T>
void col2im(const T* col, int64_t channels, const ops::WindowGeometry& g, T* image) {
  for_each_window_line(channels, g, [&](const WindowLine& w) {
    if (w.image_line < 0) return;
    const T* src = col + w.col_offset;
    T* dst = image + w.image_line + w.first;
    for (int64_t o = w.lo; o < w.hi; ++o) dst[(o - w.lo) * w.step] += src[o];
  });
}

#define FULCRUM_INSTANTIATE_IM2COL_(T)                                        \
  template void im2col<T>(const T*, int64_t, const ops::WindowGeometry&, T*); \
  template void col2im<T>(const T*, int64_t, const ops::WindowGeometry&, T*);
FULCRUM_INSTANTIATE_IM2COL_(float)
FULCRUM_INSTANTIATE_IM2COL_(double)
FULCRUM_INSTANTIATE_IM2COL_(int32_t)
#undef FULCRUM_INSTANTIATE_IM2COL_

}  // namespace fulcrum::backends::reference
