// Reference kernels for MaxPool, AveragePool, LpPool and their Global forms. Every pool
// walks the same table: for each output position, the in-bounds input positions of its
// window (padding is never read) and how many window positions lie inside the padded input.
#include <cmath>
#include <limits>
#include <vector>

#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/pool.h"

namespace fulcrum::backends::reference {
namespace {

// Windows of one (n, c) plane in CSR form: output o reads plane offsets
// taps[begin[o] .. begin[o + 1]), and `padded[o]` counts its positions inside input + pads.
struct WindowTable {
  std::vector<int64_t> begin;
  std::vector<int64_t> taps;
  std::vector<int64_t> padded;
};

WindowTable window_table(const ops::WindowGeometry& g) {
  const size_t rank = g.rank();
  const std::vector<int64_t> in_strides = ops::strides_of(g.in);
  const std::vector<int64_t> out_strides = ops::strides_of(g.out);
  const std::vector<int64_t> k_strides = ops::strides_of(g.kernel);
  WindowTable t;
  t.begin.reserve(static_cast<size_t>(g.out_size()) + 1);
  t.begin.push_back(0);
  for (int64_t o = 0; o < g.out_size(); ++o) {
    int64_t padded = 0;
    for (int64_t kidx = 0; kidx < g.kernel_size(); ++kidx) {
      int64_t offset = 0;
      bool inside = true, inside_pads = true;
      for (size_t d = 0; d < rank; ++d) {
        const int64_t x = ((o / out_strides[d]) % g.out[d]) * g.strides[d] - g.pad_begin[d] +
                          ((kidx / k_strides[d]) % g.kernel[d]) * g.dilations[d];
        inside = inside && x >= 0 && x < g.in[d];
        inside_pads = inside_pads && x < g.in[d] + g.pad_end[d];
        offset += x * in_strides[d];
      }
      if (inside) t.taps.push_back(offset);
      if (inside_pads) ++padded;
    }
    t.begin.push_back(static_cast<int64_t>(t.taps.size()));
    t.padded.push_back(padded);
  }
  return t;
}

std::vector<int64_t> spatial_dims(const Shape& s) { return std::vector<int64_t>(s.begin() + 2, s.end()); }

// The geometry of a windowed pool over X, and Y's shape.
Result<ops::WindowGeometry> pool_geometry(const Tensor& x, const ops::PoolAttrs& a, Shape& y_shape) {
  if (x.rank() < 3)
    return invalid_argument("input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_to_string(x.shape()));
  if (a.kernel_shape.size() != static_cast<size_t>(x.rank() - 2))
    return invalid_argument("attribute 'kernel_shape' has {} values but X {} has {} spatial axes",
                            a.kernel_shape.size(), shape_to_string(x.shape()), x.rank() - 2);
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g,
                           ops::window_geometry(a, spatial_dims(x.shape()), a.kernel_shape, a.ceil_mode));
  y_shape = {x.dim(0), x.dim(1)};
  y_shape.insert(y_shape.end(), g.out.begin(), g.out.end());
  return g;
}

// A Global pool is the windowed pool whose one window is the whole plane.
ops::WindowGeometry global_geometry(const Tensor& x, Shape& y_shape) {
  ops::WindowGeometry g;
  g.in = spatial_dims(x.shape());
  g.kernel = g.in;
  g.strides.assign(g.in.size(), 1);
  g.dilations.assign(g.in.size(), 1);
  g.pad_begin.assign(g.in.size(), 0);
  g.pad_end.assign(g.in.size(), 0);
  g.out.assign(g.in.size(), 1);
  y_shape = {x.dim(0), x.dim(1)};
  y_shape.insert(y_shape.end(), g.in.size(), 1);
  return g;
}

// Offset of a plane offset in column-major order (MaxPool storage_order = 1).
int64_t column_major_offset(int64_t offset, const ops::WindowGeometry& g) {
  int64_t out = 0, stride = 1;
  const std::vector<int64_t> in_strides = ops::strides_of(g.in);
  for (size_t d = 0; d < g.rank(); ++d) {
    out += ((offset / in_strides[d]) % g.in[d]) * stride;
    stride *= g.in[d];
  }
  return out;
}

Status max_pool_with(KernelContext& ctx, const ops::WindowGeometry& g, const Shape& y_shape, int64_t storage_order) {
  const Tensor& x = ctx.input(0);
  const WindowTable t = window_table(g);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const bool want_indices = ctx.num_outputs() > 1 && ctx.wants_output(1);
  return visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = ctx.allocate_output(0, x.dtype(), y_shape).template mutable_data<T>();
    int64_t* indices =
        want_indices ? ctx.allocate_output(1, DType::kInt64, y_shape).template mutable_data<int64_t>() : nullptr;
    parallel_for(planes, planes * static_cast<int64_t>(t.taps.size()), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* plane = x.data<T>() + p * in_size;
        for (int64_t o = 0; o < out_size; ++o) {
          // A window entirely in the padding has no maximum: it yields 0 and index -1.
          int64_t best = -1;
          for (int64_t i = t.begin[o]; i < t.begin[o + 1]; ++i)
            if (best < 0 || plane[t.taps[i]] > plane[best]) best = t.taps[i];
          y[p * out_size + o] = best < 0 ? T{0} : plane[best];
          if (indices)
            indices[p * out_size + o] =
                best < 0 ? -1 : p * in_size + (storage_order == 1 ? column_major_offset(best, g) : best);
        }
      }
    });
    return Status::ok();
  });
}

// Average (p == 0) or Lp pool: sum of x (or |x|^p) over the in-bounds window positions.
Status sum_pool_with(KernelContext& ctx, const ops::WindowGeometry& g, const Shape& y_shape, bool count_include_pad,
                     double p) {
  const Tensor& x = ctx.input(0);
  const WindowTable t = window_table(g);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  return visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = ctx.allocate_output(0, x.dtype(), y_shape).template mutable_data<T>();
    parallel_for(planes, planes * static_cast<int64_t>(t.taps.size()), [&](int64_t p0, int64_t p1) {
      for (int64_t pl = p0; pl < p1; ++pl) {
        const T* plane = x.data<T>() + pl * in_size;
        for (int64_t o = 0; o < out_size; ++o) {
          double sum = 0;
          for (int64_t i = t.begin[o]; i < t.begin[o + 1]; ++i) {
            const double v = static_cast<double>(plane[t.taps[i]]);
            sum += p == 0 ? v : (p == 2 ? v * v : std::pow(std::fabs(v), p));
          }
          double r;
          if (p != 0) {
            r = p == 2 ? std::sqrt(sum) : std::pow(sum, 1.0 / p);
          } else {
            const int64_t n = count_include_pad ? t.padded[o] : t.begin[o + 1] - t.begin[o];
            r = n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(n);
          }
          y[pl * out_size + o] = static_cast<T>(r);
        }
      }
    });
    return Status::ok();
  });
}

Status max_pool(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::PoolAttrs>();
  Shape y_shape;
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, pool_geometry(ctx.input(0), a, y_shape));
  return max_pool_with(ctx, g, y_shape, a.storage_order);
}

Status average_pool(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::PoolAttrs>();
  Shape y_shape;
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, pool_geometry(ctx.input(0), a, y_shape));
  return sum_pool_with(ctx, g, y_shape, a.count_include_pad, 0.0);
}

Status lp_pool(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::PoolAttrs>();
  Shape y_shape;
  FULCRUM_ASSIGN_OR_RETURN(ops::WindowGeometry g, pool_geometry(ctx.input(0), a, y_shape));
  return sum_pool_with(ctx, g, y_shape, false, a.p);
}

Status check_global_input(const Tensor& x) {
  if (x.rank() < 3)
    return invalid_argument("input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_to_string(x.shape()));
  return Status::ok();
}

Status global_max_pool(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(check_global_input(ctx.input(0)));
  Shape y_shape;
  const ops::WindowGeometry g = global_geometry(ctx.input(0), y_shape);
  return max_pool_with(ctx, g, y_shape, 0);
}

Status global_average_pool(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(check_global_input(ctx.input(0)));
  Shape y_shape;
  const ops::WindowGeometry g = global_geometry(ctx.input(0), y_shape);
  return sum_pool_with(ctx, g, y_shape, false, 0.0);
}

Status global_lp_pool(KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(check_global_input(ctx.input(0)));
  Shape y_shape;
  const ops::WindowGeometry g = global_geometry(ctx.input(0), y_shape);
  return sum_pool_with(ctx, g, y_shape, false, ctx.attrs<ops::PoolAttrs>().p);
}

FULCRUM_REFERENCE_KERNEL(MaxPool, max_pool);
FULCRUM_REFERENCE_KERNEL(AveragePool, average_pool);
FULCRUM_REFERENCE_KERNEL(LpPool, lp_pool);
FULCRUM_REFERENCE_KERNEL(GlobalMaxPool, global_max_pool);
FULCRUM_REFERENCE_KERNEL(GlobalAveragePool, global_average_pool);
FULCRUM_REFERENCE_KERNEL(GlobalLpPool, global_lp_pool);

}  // namespace
}  // namespace fulcrum::backends::reference
