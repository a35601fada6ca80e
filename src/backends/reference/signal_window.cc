// Reference kernels for the generators of the signal family: BlackmanWindow, HammingWindow,
// HannWindow and MelWeightMatrix. Values are computed in double and cast to the requested
// output_datatype.
#include <cmath>
#include <limits>
#include <numbers>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/signal.h"

namespace fulcrum::backends::reference {
namespace {

// Integer outputs truncate, as a numpy astype does; NaN and out-of-range values saturate.
template <class T>
T to_output(double v) {
  if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  }
  return static_cast<T>(v);
}

// A scalar (or one-element) integer input.
Result<int64_t> read_int_scalar(const KernelContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return invalid_argument("input '{}' is required", name);
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64)
    return invalid_argument("input '{}' must be int32 or int64, got {}", name, dtype_name(t.dtype()));
  if (t.numel() != 1)
    return invalid_argument("input '{}' must be a scalar, got shape {}", name, shape_to_string(t.shape()));
  return read_as_int64(t, 0);
}

Result<double> read_float_scalar(const KernelContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return invalid_argument("input '{}' is required", name);
  const Tensor& t = ctx.input(i);
  if (t.numel() != 1)
    return invalid_argument("input '{}' must be a scalar, got shape {}", name, shape_to_string(t.shape()));
  return read_as_double(t, 0);
}

// A generalized cosine window: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), where N is
// size (periodic) or size - 1 (symmetric). A symmetric window of size 1 divides 0 by 0,
// as the ONNX function bodies do, and so is NaN.
Status cosine_window(KernelContext& ctx, double a0, double a1, double a2) {
  FULCRUM_ASSIGN_OR_RETURN(int64_t size, read_int_scalar(ctx, 0, "size"));
  if (size < 0) return invalid_argument("input 'size' must not be negative, got {}", size);
  const auto& a = ctx.attrs<ops::WindowAttrs>();
  const double n_total = static_cast<double>(a.periodic ? size : size - 1);
  return visit_numeric(a.output_dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(0, a.output_dtype, {size}).template mutable_data<T>();
    for (int64_t n = 0; n < size; ++n) {
      const double phase = 2.0 * std::numbers::pi * static_cast<double>(n) / n_total;
      out[n] = to_output<T>(a0 - a1 * std::cos(phase) + a2 * std::cos(2.0 * phase));
    }
    return Status::ok();
  });
}

Status hann_window(KernelContext& ctx) { return cosine_window(ctx, 0.5, 0.5, 0.0); }
Status hamming_window(KernelContext& ctx) { return cosine_window(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
Status blackman_window(KernelContext& ctx) { return cosine_window(ctx, 0.42, 0.5, 0.08); }

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// The spectrogram bin of each of the num_mel_bins + 2 triangle corners, evenly spaced in
// mel. The step divides by num_mel_bins + 2, as onnxruntime and the ONNX reference do.
Result<std::vector<int64_t>> mel_corner_bins(int64_t num_mel_bins, int64_t dft_length, int64_t sample_rate,
                                             double lower_hz, double upper_hz) {
  const int64_t spectrogram_bins = dft_length / 2 + 1;
  const double low_mel = hz_to_mel(lower_hz);
  const double step = (hz_to_mel(upper_hz) - low_mel) / static_cast<double>(num_mel_bins + 2);
  std::vector<int64_t> bins;
  for (int64_t i = 0; i < num_mel_bins + 2; ++i) {
    const double hz = mel_to_hz(static_cast<double>(i) * step + low_mel);
    const double bin = std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
    if (!(bin >= 0.0 && bin < static_cast<double>(spectrogram_bins)))
      return invalid_argument(
          "lower_edge_hertz ({}) and upper_edge_hertz ({}) must lie within [0, sample_rate / 2] (sample_rate {}): "
          "a mel band edge falls on spectrogram bin {} of {}",
          lower_hz, upper_hz, sample_rate, bin, spectrogram_bins);
    bins.push_back(static_cast<int64_t>(bin));
  }
  return bins;
}

// The [dft_length / 2 + 1, num_mel_bins] matrix of triangular filters, row-major.
std::vector<double> mel_triangles(const std::vector<int64_t>& corner, int64_t rows, int64_t num_mel_bins) {
  std::vector<double> w(static_cast<size_t>(rows * num_mel_bins), 0.0);
  auto at = [&](int64_t r, int64_t c) -> double& { return w[static_cast<size_t>(r * num_mel_bins + c)]; };
  for (int64_t i = 0; i < num_mel_bins; ++i) {
    const int64_t left = corner[static_cast<size_t>(i)], center = corner[static_cast<size_t>(i) + 1],
                  right = corner[static_cast<size_t>(i) + 2];
    if (center == left) {
      at(center, i) = 1.0;
    } else {
      for (int64_t j = left; j <= center; ++j)
        at(j, i) = static_cast<double>(j - left) / static_cast<double>(center - left);
    }
    for (int64_t j = center; j < right; ++j)
      at(j, i) = static_cast<double>(right - j) / static_cast<double>(right - center);
  }
  return w;
}

Status mel_weight_matrix(KernelContext& ctx) {
  FULCRUM_ASSIGN_OR_RETURN(int64_t num_mel_bins, read_int_scalar(ctx, 0, "num_mel_bins"));
  FULCRUM_ASSIGN_OR_RETURN(int64_t dft_length, read_int_scalar(ctx, 1, "dft_length"));
  FULCRUM_ASSIGN_OR_RETURN(int64_t sample_rate, read_int_scalar(ctx, 2, "sample_rate"));
  FULCRUM_ASSIGN_OR_RETURN(double lower_hz, read_float_scalar(ctx, 3, "lower_edge_hertz"));
  FULCRUM_ASSIGN_OR_RETURN(double upper_hz, read_float_scalar(ctx, 4, "upper_edge_hertz"));
  if (num_mel_bins <= 0 || dft_length <= 0 || sample_rate <= 0)
    return invalid_argument("inputs 'num_mel_bins' ({}), 'dft_length' ({}) and 'sample_rate' ({}) must be positive",
                            num_mel_bins, dft_length, sample_rate);
  if (!(lower_hz <= upper_hz))
    return invalid_argument("input 'lower_edge_hertz' ({}) must not exceed 'upper_edge_hertz' ({})", lower_hz,
                            upper_hz);
  FULCRUM_ASSIGN_OR_RETURN(std::vector<int64_t> corner,
                           mel_corner_bins(num_mel_bins, dft_length, sample_rate, lower_hz, upper_hz));
  const int64_t rows = dft_length / 2 + 1;
  const std::vector<double> w = mel_triangles(corner, rows, num_mel_bins);
  const DType dtype = ctx.attrs<ops::MelWeightMatrixAttrs>().output_dtype;
  return visit_numeric(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(0, dtype, {rows, num_mel_bins}).template mutable_data<T>();
    for (size_t i = 0; i < w.size(); ++i) out[i] = to_output<T>(w[i]);
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(BlackmanWindow, blackman_window);
FULCRUM_REFERENCE_KERNEL(HammingWindow, hamming_window);
FULCRUM_REFERENCE_KERNEL(HannWindow, hann_window);
FULCRUM_REFERENCE_KERNEL(MelWeightMatrix, mel_weight_matrix);

}  // namespace
}  // namespace fulcrum::backends::reference
