// Reference kernels for BatchNormalization, InstanceNormalization, LayerNormalization, LRN
// and MeanVarianceNormalization. Statistics and the normalisation itself are computed in
// double.
#include <algorithm>
#include <cmath>

#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "core/float16.h"
#include "ops/normalization.h"

namespace fulcrum::backends::reference {
namespace {

// A float tensor's values as doubles; `name` and `expected` (element count, -1: any) are
// for the error message.
Result<std::vector<double>> float_values(const Tensor& t, const char* name, int64_t expected) {
  if (expected >= 0 && t.numel() != expected)
    return invalid_argument("input '{}' has shape {}, expected {} elements", name, shape_to_string(t.shape()),
                            expected);
  if (!is_float_dtype(t.dtype())) return unsupported_dtype(t.dtype());
  return read_doubles(t);
}

// Per-group mean and population variance of x seen as [outer, groups, count], reducing
// the outer and count axes: BatchNorm's per-channel statistics are (N, C, spatial), the
// per-row statistics of Instance/LayerNorm are (1, rows, row length).
struct Moments {
  std::vector<double> mean, var;
};

Moments moments(const std::vector<double>& x, int64_t outer, int64_t groups, int64_t count) {
  Moments m{std::vector<double>(static_cast<size_t>(groups)), std::vector<double>(static_cast<size_t>(groups))};
  const double total = static_cast<double>(outer * count);
  auto at = [&](int64_t o, int64_t g, int64_t s) { return x[static_cast<size_t>((o * groups + g) * count + s)]; };
  for (int64_t g = 0; g < groups; ++g) {
    double sum = 0, sq = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t s = 0; s < count; ++s) sum += at(o, g, s);
    const double mean = sum / total;
    // Two passes: the variance of centred values does not cancel catastrophically.
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t s = 0; s < count; ++s) sq += (at(o, g, s) - mean) * (at(o, g, s) - mean);
    m.mean[static_cast<size_t>(g)] = mean;
    m.var[static_cast<size_t>(g)] = sq / total;
  }
  return m;
}

Result<bool> batch_norm_training(const KernelContext& ctx, const ops::BatchNormAttrs& a) {
  bool extra_outputs = false;
  for (size_t i = 1; i < ctx.num_outputs(); ++i) extra_outputs = extra_outputs || ctx.wants_output(i);
  if (ctx.opset() >= 14) {
    if (extra_outputs && !a.training_mode)
      return invalid_argument("outputs 'running_mean' and 'running_var' exist only with training_mode=1");
    return a.training_mode;
  }
  // Before opset 14, training was is_test=0 (opset 6) or asking for the mean/var/saved_*
  // outputs (opsets 7-13), whose saved_* outputs were never pinned down.
  if (a.training_mode || extra_outputs)
    return unimplemented("training mode before opset 14 (is_test=0 or the mean/var/saved_* outputs) is not supported");
  return false;
}

Status batch_norm(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::BatchNormAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2)
    return invalid_argument("input 'X' must have rank >= 2 (N x C x ...), got {}", shape_to_string(x.shape()));
  FULCRUM_ASSIGN_OR_RETURN(bool training, batch_norm_training(ctx, a));
  const int64_t n = x.dim(0), channels = x.dim(1), spatial = x.numel() / std::max<int64_t>(n * channels, 1);
  // spatial=0 (opsets 6-8): one parameter per activation, i.e. per (channel, position).
  const int64_t groups = a.spatial ? channels : channels * spatial;
  const int64_t per_group = a.spatial ? spatial : 1;
  FULCRUM_ASSIGN_OR_RETURN(auto xs, float_values(x, "X", -1));
  FULCRUM_ASSIGN_OR_RETURN(auto scale, float_values(ctx.input(1), "scale", groups));
  FULCRUM_ASSIGN_OR_RETURN(auto bias, float_values(ctx.input(2), "B", groups));
  FULCRUM_ASSIGN_OR_RETURN(auto mean, float_values(ctx.input(3), "input_mean", groups));
  FULCRUM_ASSIGN_OR_RETURN(auto var, float_values(ctx.input(4), "input_var", groups));
  Moments used{mean, var};
  if (training) used = moments(xs, n, channels, spatial);

  std::vector<double> y(xs.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < groups; ++g) {
      const size_t c = static_cast<size_t>(g);
      const double inv_std = 1.0 / std::sqrt(used.var[c] + a.epsilon);
      for (int64_t s = 0; s < per_group; ++s) {
        const size_t i = static_cast<size_t>((b * groups + g) * per_group + s);
        y[i] = scale[c] * (xs[i] - used.mean[c]) * inv_std + bias[c];
      }
    }
  FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 0, x.dtype(), x.shape(), y));
  if (!training) return Status::ok();
  // Running statistics: the given ones moved towards the batch's by (1 - momentum).
  std::vector<double> running_mean(mean.size()), running_var(var.size());
  for (size_t c = 0; c < mean.size(); ++c) {
    running_mean[c] = mean[c] * a.momentum + used.mean[c] * (1.0 - a.momentum);
    running_var[c] = var[c] * a.momentum + used.var[c] * (1.0 - a.momentum);
  }
  if (ctx.wants_output(1))
    FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 1, ctx.input(3).dtype(), ctx.input(3).shape(), running_mean));
  if (ctx.wants_output(2))
    FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 2, ctx.input(4).dtype(), ctx.input(4).shape(), running_var));
  return Status::ok();
}

Status instance_norm(KernelContext& ctx) {
  const double epsilon = ctx.attrs<ops::EpsilonAttrs>().epsilon;
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2)
    return invalid_argument("input 'input' must have rank >= 2 (N x C x ...), got {}", shape_to_string(x.shape()));
  const int64_t n = x.dim(0), channels = x.dim(1), spatial = x.numel() / std::max<int64_t>(n * channels, 1);
  FULCRUM_ASSIGN_OR_RETURN(auto xs, float_values(x, "input", -1));
  FULCRUM_ASSIGN_OR_RETURN(auto scale, float_values(ctx.input(1), "scale", channels));
  FULCRUM_ASSIGN_OR_RETURN(auto bias, float_values(ctx.input(2), "B", channels));
  // Statistics per (sample, channel) plane.
  Moments m = moments(xs, 1, n * channels, spatial);
  std::vector<double> y(xs.size());
  for (int64_t p = 0; p < n * channels; ++p) {
    const size_t c = static_cast<size_t>(p % channels);
    const double inv_std = 1.0 / std::sqrt(m.var[static_cast<size_t>(p)] + epsilon);
    for (int64_t s = 0; s < spatial; ++s) {
      const size_t i = static_cast<size_t>(p * spatial + s);
      y[i] = scale[c] * (xs[i] - m.mean[static_cast<size_t>(p)]) * inv_std + bias[c];
    }
  }
  return write_doubles(ctx, 0, x.dtype(), x.shape(), y);
}

// Scale and B must broadcast to X's shape, as LayerNormalization's function body multiplies
// and adds them with numpy broadcasting.
Status check_broadcasts_to(const Tensor& param, const Shape& x_shape, const char* name) {
  auto shape = ops::broadcast_shapes({x_shape, param.shape()});
  if (!shape.is_ok() || *shape != x_shape)
    return invalid_argument("input '{}' of shape {} does not broadcast to X's shape {}", name,
                            shape_to_string(param.shape()), shape_to_string(x_shape));
  return Status::ok();
}

Status layer_norm(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::LayerNormAttrs>();
  const Tensor& x = ctx.input(0);
  auto axis = ops::normalize_axis(a.axis, x.rank());
  if (!axis.is_ok()) return invalid_argument("attribute 'axis' {} is out of range for X of rank {}", a.axis, x.rank());
  int64_t rows = 1;
  for (int64_t d = 0; d < *axis; ++d) rows *= x.dim(d);
  const int64_t cols = rows == 0 ? 0 : x.numel() / rows;
  FULCRUM_ASSIGN_OR_RETURN(auto xs, float_values(x, "X", -1));
  FULCRUM_ASSIGN_OR_RETURN(auto scale, float_values(ctx.input(1), "Scale", -1));
  FULCRUM_RETURN_IF_ERROR(check_broadcasts_to(ctx.input(1), x.shape(), "Scale"));
  std::vector<double> bias{0.0};
  Tensor bias_tensor = Tensor::zeros(DType::kFloat64, {});
  if (ctx.has_input(2)) {
    bias_tensor = ctx.input(2);
    FULCRUM_ASSIGN_OR_RETURN(bias, float_values(bias_tensor, "B", -1));
    FULCRUM_RETURN_IF_ERROR(check_broadcasts_to(bias_tensor, x.shape(), "B"));
  }
  // Per row: mean and 1/sqrt(var + epsilon) over the `cols` normalised values.
  Moments m = moments(xs, 1, rows, cols);
  std::vector<double> inv_std(static_cast<size_t>(rows));
  for (size_t r = 0; r < inv_std.size(); ++r) inv_std[r] = 1.0 / std::sqrt(m.var[r] + a.epsilon);
  std::vector<double> y(xs.size());
  for_each_broadcast(x.shape(), {ctx.input(1).shape(), bias_tensor.shape()}, [&](int64_t i, const int64_t* off) {
    const size_t r = static_cast<size_t>(i / cols);
    y[static_cast<size_t>(i)] =
        (xs[static_cast<size_t>(i)] - m.mean[r]) * inv_std[r] * scale[static_cast<size_t>(off[0])] +
        bias[static_cast<size_t>(off[1])];
  });
  FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 0, x.dtype(), x.shape(), y));
  // Mean and InvStdDev keep X's leading axes and have 1 for each normalised one.
  Shape stat_shape = x.shape();
  for (int64_t d = *axis; d < x.rank(); ++d) stat_shape[static_cast<size_t>(d)] = 1;
  if (ctx.wants_output(1)) FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 1, a.stash_dtype, stat_shape, m.mean));
  if (ctx.wants_output(2)) FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 2, a.stash_dtype, stat_shape, inv_std));
  return Status::ok();
}

// LRN: each value divided by (bias + alpha/size * sum of squares of its `size` neighbouring
// channels)^beta, the window being [c - floor((size-1)/2), c + ceil((size-1)/2)].
Status lrn(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::LrnAttrs>();
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2)
    return invalid_argument("input 'X' must have rank >= 2 (N x C x ...), got {}", shape_to_string(x.shape()));
  const int64_t n = x.dim(0), channels = x.dim(1), spatial = x.numel() / std::max<int64_t>(n * channels, 1);
  const int64_t before = (a.size - 1) / 2, after = a.size / 2;  // floor and ceil of (size-1)/2
  FULCRUM_ASSIGN_OR_RETURN(auto xs, float_values(x, "X", -1));
  auto at = [&](int64_t b, int64_t c, int64_t s) { return static_cast<size_t>((b * channels + c) * spatial + s); };
  std::vector<double> y(xs.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t s = 0; s < spatial; ++s) {
        double square_sum = 0;
        for (int64_t i = std::max<int64_t>(0, c - before); i <= std::min(channels - 1, c + after); ++i)
          square_sum += xs[at(b, i, s)] * xs[at(b, i, s)];
        y[at(b, c, s)] =
            xs[at(b, c, s)] / std::pow(a.bias + a.alpha / static_cast<double>(a.size) * square_sum, a.beta);
      }
  return write_doubles(ctx, 0, x.dtype(), x.shape(), y);
}

// MeanVarianceNormalization: (X - mean) / (sqrt(variance) + 1e-9) over `axes`, the epsilon
// being the one in the ONNX function body.
Status mean_variance_norm(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape group_shape = x.shape();  // X with the reduced axes set to 1
  for (int64_t axis : ctx.attrs<ops::MeanVarianceNormAttrs>().axes) {
    auto d = ops::normalize_axis(axis, x.rank());
    if (!d.is_ok()) return invalid_argument("attribute 'axes' has {}, out of range for X of rank {}", axis, x.rank());
    group_shape[static_cast<size_t>(*d)] = 1;
  }
  FULCRUM_ASSIGN_OR_RETURN(auto xs, float_values(x, "X", -1));
  const int64_t groups = shape_numel(group_shape);
  const double count = groups == 0 ? 0.0 : static_cast<double>(x.numel() / groups);
  std::vector<double> mean(static_cast<size_t>(groups)), var(static_cast<size_t>(groups));
  auto each = [&](auto fn) {
    for_each_broadcast(x.shape(), {group_shape},
                       [&](int64_t i, const int64_t* off) { fn(static_cast<size_t>(i), static_cast<size_t>(off[0])); });
  };
  each([&](size_t i, size_t g) { mean[g] += xs[i]; });
  for (double& m : mean) m /= count;
  each([&](size_t i, size_t g) { var[g] += (xs[i] - mean[g]) * (xs[i] - mean[g]); });
  for (double& v : var) v /= count;
  std::vector<double> y(xs.size());
  each([&](size_t i, size_t g) { y[i] = (xs[i] - mean[g]) / (std::sqrt(var[g]) + 1e-9); });
  return write_doubles(ctx, 0, x.dtype(), x.shape(), y);
}

FULCRUM_REFERENCE_KERNEL(BatchNormalization, batch_norm);
FULCRUM_REFERENCE_KERNEL(InstanceNormalization, instance_norm);
FULCRUM_REFERENCE_KERNEL(LayerNormalization, layer_norm);
FULCRUM_REFERENCE_KERNEL(LRN, lrn);
FULCRUM_REFERENCE_KERNEL(MeanVarianceNormalization, mean_variance_norm);

}  // namespace
}  // namespace fulcrum::backends::reference
