// Reference kernels for DFT and STFT: a direct O(n^2) discrete Fourier transform per
// signal line, in double precision. Complex values are a trailing [real, imaginary]
// dimension; a trailing 1 is a real signal.
//
// DFT modes (onesided, inverse): (0, 0) full DFT; (1, 0) RFFT, real input, first
// n/2 + 1 bins; (0, 1) inverse DFT scaled by 1/n; (1, 1) IRFFT, a one-sided spectrum in,
// the real signal of length n out (trailing dimension 1).
#include <algorithm>
#include <complex>
#include <numbers>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/signal.h"

namespace fulcrum::backends::reference {
namespace {

using Complex = std::complex<double>;

// The n-point transform of `in` (truncated or zero-padded to n), bins [0, out_len).
class Dft {
 public:
  Dft(int64_t n, bool inverse) : n_(n), inverse_(inverse) {
    for (int64_t j = 0; j < n; ++j) {
      const double angle = 2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(n);
      twiddle_.push_back(Complex(std::cos(angle), inverse ? std::sin(angle) : -std::sin(angle)));
    }
  }

  void run(const std::vector<Complex>& in, int64_t out_len, Complex* out) const {
    const int64_t used = std::min<int64_t>(static_cast<int64_t>(in.size()), n_);
    for (int64_t k = 0; k < out_len; ++k) {
      Complex sum = 0.0;
      // (j * k) mod n keeps the angle exact for long transforms.
      for (int64_t j = 0; j < used; ++j)
        sum += in[static_cast<size_t>(j)] * twiddle_[static_cast<size_t>((j * k) % n_)];
      out[k] = inverse_ ? sum / static_cast<double>(n_) : sum;
    }
  }

 private:
  int64_t n_;
  bool inverse_;
  std::vector<Complex> twiddle_;
};

// The full spectrum of length n whose first n/2 + 1 bins are `half` (truncated or
// zero-padded) and whose rest is their conjugate mirror, as a real signal's spectrum is.
std::vector<Complex> hermitian_extend(const std::vector<Complex>& half, int64_t n) {
  std::vector<Complex> full(static_cast<size_t>(n));
  const int64_t unique_bins = n / 2 + 1;
  for (int64_t k = 0; k < std::min<int64_t>(unique_bins, static_cast<int64_t>(half.size())); ++k)
    full[static_cast<size_t>(k)] = half[static_cast<size_t>(k)];
  for (int64_t k = unique_bins; k < n; ++k) full[static_cast<size_t>(k)] = std::conj(full[static_cast<size_t>(n - k)]);
  return full;
}

// An optional scalar integer input, or `fallback` when omitted.
Result<int64_t> optional_int_scalar(const KernelContext& ctx, size_t i, const char* name, int64_t fallback) {
  if (!ctx.has_input(i)) return fallback;
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64)
    return invalid_argument("input '{}' must be int32 or int64, got {}", name, dtype_name(t.dtype()));
  if (t.numel() != 1)
    return invalid_argument("input '{}' must be a scalar, got shape {}", name, shape_to_string(t.shape()));
  return read_as_int64(t, 0);
}

Status check_complex_dim(const Tensor& x, const char* name) {
  if (x.rank() < 2 || (x.dim(x.rank() - 1) != 1 && x.dim(x.rank() - 1) != 2))
    return invalid_argument("input '{}' must end in a dimension of 1 (real) or 2 (complex), got {}", name,
                            shape_to_string(x.shape()));
  return Status::ok();
}

struct DftPlan {
  int64_t axis = 0;
  int64_t length = 0;   // the transform size n
  int64_t out_len = 0;  // output extent on the axis
  bool irfft = false;
};

Result<DftPlan> plan_dft(const KernelContext& ctx, const Tensor& x) {
  const auto& a = ctx.attrs<ops::DFTAttrs>();
  const int64_t r = x.rank();
  DftPlan p;
  p.axis = a.axis;
  if (ctx.opset() >= 20) {
    FULCRUM_ASSIGN_OR_RETURN(p.axis, optional_int_scalar(ctx, 2, "axis", -2));
  }
  if (p.axis < -r || p.axis > r - 2 || p.axis == -1)
    return invalid_argument("axis {} is out of range for input {}: it must be in [-{}, -2] or [0, {}]", p.axis,
                            shape_to_string(x.shape()), r, r - 2);
  if (p.axis < 0) p.axis += r;
  const bool complex_in = x.dim(r - 1) == 2;
  p.irfft = a.inverse && a.onesided;
  if (a.onesided && !a.inverse && complex_in)
    return invalid_argument("onesided=1 (RFFT) needs a real input (last dimension 1), got {}",
                            shape_to_string(x.shape()));
  if (p.irfft && !complex_in)
    return invalid_argument("onesided=1 with inverse=1 (IRFFT) needs a complex input (last dimension 2), got {}",
                            shape_to_string(x.shape()));
  const int64_t extent = x.dim(p.axis);
  FULCRUM_ASSIGN_OR_RETURN(p.length, optional_int_scalar(ctx, 1, "dft_length", p.irfft ? 2 * (extent - 1) : extent));
  if (p.length <= 0) return invalid_argument("the DFT length must be positive, got {}", p.length);
  p.out_len = (a.onesided && !a.inverse) ? p.length / 2 + 1 : p.length;
  return p;
}

Status dft(KernelContext& ctx) {
  if (!ctx.has_input(0)) return invalid_argument("input 'input' is required");
  const Tensor& x = ctx.input(0);
  FULCRUM_RETURN_IF_ERROR(check_complex_dim(x, "input"));
  FULCRUM_ASSIGN_OR_RETURN(DftPlan p, plan_dft(ctx, x));
  const int64_t r = x.rank(), in_c = x.dim(r - 1), out_c = p.irfft ? 1 : 2, extent = x.dim(p.axis);
  const int64_t outer = shape_numel(Shape(x.shape().begin(), x.shape().begin() + p.axis));
  const int64_t inner = shape_numel(Shape(x.shape().begin() + p.axis + 1, x.shape().end() - 1));
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(p.axis)] = p.out_len;
  out_shape.back() = out_c;
  const Dft transform(p.length, ctx.attrs<ops::DFTAttrs>().inverse);
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = ctx.allocate_output(0, x.dtype(), out_shape).template mutable_data<T>();
    std::vector<Complex> line(static_cast<size_t>(extent));
    std::vector<Complex> result(static_cast<size_t>(p.out_len));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t j = 0; j < extent; ++j) {
          const T* v = in + ((o * extent + j) * inner + i) * in_c;
          line[static_cast<size_t>(j)] = Complex(v[0], in_c == 2 ? v[1] : 0.0);
        }
        transform.run(p.irfft ? hermitian_extend(line, p.length) : line, p.out_len, result.data());
        for (int64_t k = 0; k < p.out_len; ++k) {
          T* w = out + ((o * p.out_len + k) * inner + i) * out_c;
          w[0] = static_cast<T>(result[static_cast<size_t>(k)].real());
          if (out_c == 2) w[1] = static_cast<T>(result[static_cast<size_t>(k)].imag());
        }
      }
    return Status::ok();
  });
}

struct StftPlan {
  int64_t step = 0, frame_length = 0, frames = 0, bins = 0;
  std::vector<double> window;
};

Result<StftPlan> plan_stft(const KernelContext& ctx, const Tensor& signal) {
  StftPlan p;
  const int64_t length = signal.dim(1);
  if (!ctx.has_input(1)) return invalid_argument("input 'frame_step' is required");
  FULCRUM_ASSIGN_OR_RETURN(p.step, optional_int_scalar(ctx, 1, "frame_step", 0));
  if (p.step <= 0) return invalid_argument("input 'frame_step' must be positive, got {}", p.step);
  const bool has_window = ctx.has_input(2);
  if (has_window && ctx.input(2).rank() != 1)
    return invalid_argument("input 'window' must be 1-D, got {}", shape_to_string(ctx.input(2).shape()));
  const int64_t window_length = has_window ? ctx.input(2).dim(0) : length;
  FULCRUM_ASSIGN_OR_RETURN(p.frame_length, optional_int_scalar(ctx, 3, "frame_length", window_length));
  if (has_window && p.frame_length != window_length)
    return invalid_argument("input 'frame_length' ({}) must equal the length of 'window' ({})", p.frame_length,
                            window_length);
  if (p.frame_length <= 0 || p.frame_length > length)
    return invalid_argument("the frame length {} must be in [1, signal length {}]", p.frame_length, length);
  p.frames = (length - p.frame_length) / p.step + 1;
  p.bins = ctx.attrs<ops::STFTAttrs>().onesided ? p.frame_length / 2 + 1 : p.frame_length;
  for (int64_t n = 0; n < p.frame_length; ++n) p.window.push_back(has_window ? read_as_double(ctx.input(2), n) : 1.0);
  return p;
}

Status stft(KernelContext& ctx) {
  if (!ctx.has_input(0)) return invalid_argument("input 'signal' is required");
  const Tensor& signal = ctx.input(0);
  if (signal.rank() != 3 || (signal.dim(2) != 1 && signal.dim(2) != 2))
    return invalid_argument("input 'signal' must be [batch, length, 1 or 2], got {}", shape_to_string(signal.shape()));
  const int64_t channels = signal.dim(2);
  if (channels == 2 && ctx.attrs<ops::STFTAttrs>().onesided)
    return invalid_argument("onesided=1 needs a real 'signal' (last dimension 1), got {}",
                            shape_to_string(signal.shape()));
  FULCRUM_ASSIGN_OR_RETURN(StftPlan p, plan_stft(ctx, signal));
  const int64_t batch = signal.dim(0), length = signal.dim(1);
  const Dft transform(p.frame_length, false);
  return visit_float(signal.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = signal.data<T>();
    T* out = ctx.allocate_output(0, signal.dtype(), {batch, p.frames, p.bins, 2}).template mutable_data<T>();
    std::vector<Complex> frame(static_cast<size_t>(p.frame_length));
    std::vector<Complex> spectrum(static_cast<size_t>(p.bins));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t f = 0; f < p.frames; ++f) {
        for (int64_t n = 0; n < p.frame_length; ++n) {
          const T* v = in + (b * length + f * p.step + n) * channels;
          frame[static_cast<size_t>(n)] = Complex(v[0], channels == 2 ? v[1] : 0.0) * p.window[static_cast<size_t>(n)];
        }
        transform.run(frame, p.bins, spectrum.data());
        T* w = out + (b * p.frames + f) * p.bins * 2;
        for (int64_t k = 0; k < p.bins; ++k) {
          w[2 * k] = static_cast<T>(spectrum[static_cast<size_t>(k)].real());
          w[2 * k + 1] = static_cast<T>(spectrum[static_cast<size_t>(k)].imag());
        }
      }
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(DFT, dft);
FULCRUM_REFERENCE_KERNEL(STFT, stft);

}  // namespace
}  // namespace fulcrum::backends::reference
