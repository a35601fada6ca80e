#include "backends/reference/util.h"

#include "core/float16.h"

namespace fulcrum::backends::reference {

double read_as_double(const Tensor& t, int64_t i) {
  double out = 0;
  Status s = visit_all(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    out = static_cast<double>(t.data<T>()[i]);
    return Status::ok();
  });
  (void)s;
  return out;
}

int64_t read_as_int64(const Tensor& t, int64_t i) {
  int64_t out = 0;
  Status s = visit_all(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    out = static_cast<int64_t>(t.data<T>()[i]);
    return Status::ok();
  });
  (void)s;
  return out;
}

std::vector<int64_t> to_int64_vector(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = read_as_int64(t, i);
  return out;
}

bool is_float_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kFloat16 || dtype == DType::kBFloat16;
}

std::vector<double> read_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kFloat16 || t.dtype() == DType::kBFloat16) {
    const uint16_t* p = t.data<uint16_t>();
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = t.dtype() == DType::kFloat16 ? half_to_float(p[i]) : bfloat16_to_float(p[i]);
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = read_as_double(t, static_cast<int64_t>(i));
  return out;
}

Status write_doubles(KernelContext& ctx, size_t index, DType dtype, Shape shape, const std::vector<double>& values) {
  if (dtype == DType::kFloat16 || dtype == DType::kBFloat16) {
    uint16_t* p = ctx.allocate_output(index, dtype, std::move(shape)).mutable_data<uint16_t>();
    for (size_t i = 0; i < values.size(); ++i) {
      const float v = static_cast<float>(values[i]);
      p[i] = dtype == DType::kFloat16 ? float_to_half(v) : float_to_bfloat16(v);
    }
    return Status::ok();
  }
  return visit_float(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = ctx.allocate_output(index, dtype, std::move(shape)).template mutable_data<T>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<T>(values[i]);
    return Status::ok();
  });
}

}  // namespace fulcrum::backends::reference
