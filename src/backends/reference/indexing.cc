#include "backends/reference/indexing.h"

#include "backends/reference/util.h"
#include "core/error.h"

namespace fulcrum::backends::reference {

Result<std::vector<int64_t>> read_indices(const Tensor& t) {
  if (t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64)
    return invalid_argument("input 'indices' must be int32 or int64, got {}", dtype_name(t.dtype()));
  return to_int64_vector(t);
}

Result<int64_t> resolve_index(int64_t index, int64_t extent, int64_t axis) {
  if (index < -extent || index >= extent)
    return invalid_argument("index {} is out of range for axis {} of size {}", index, axis, extent);
  return index < 0 ? index + extent : index;
}

Status resolve_indices(std::vector<int64_t>& indices, int64_t extent, int64_t axis) {
  for (int64_t& i : indices) {
    FULCRUM_ASSIGN_OR_RETURN(i, resolve_index(i, extent, axis));
  }
  return Status::ok();
}

void advance(std::vector<int64_t>& index, const Shape& shape) {
  for (size_t d = index.size(); d-- > 0;) {
    if (++index[d] < shape[d]) return;
    index[d] = 0;
  }
}

}  // namespace fulcrum::backends::reference
