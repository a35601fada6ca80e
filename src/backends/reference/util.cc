#include "backends/reference/util.h"

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

}  // namespace fulcrum::backends::reference
