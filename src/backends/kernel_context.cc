#include "backends/kernel_context.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace fulcrum::backends {

Status KernelContext::require_inputs(std::initializer_list<const char*> names) const {
  size_t i = 0;
  for (const char* name : names) {
    if (!has_input(i)) return invalid_argument("required input {} ('{}') is missing", i, name);
    ++i;
  }
  return Status::ok();
}

Tensor& KernelContext::allocate_output(size_t i, DType dtype, Shape shape) {
  Tensor& out = allocate_output_uninitialized(i, dtype, std::move(shape));
  std::memset(out.mutable_raw(), 0, out.nbytes());
  return out;
}

Tensor& KernelContext::allocate_output_uninitialized(size_t i, DType dtype, Shape shape) {
  // Never zero bytes: an empty tensor still gets a valid, unique pointer.
  const size_t bytes = std::max<size_t>(1, static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype));
  if (allocator_ != nullptr) {
    outputs_[i] = allocator_->allocate(i, dtype, std::move(shape), bytes);
    return outputs_[i];
  }
  void* data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (data == nullptr) throw std::bad_alloc();
  std::shared_ptr<const void> owner(data, [](const void* p) { std::free(const_cast<void*>(p)); });
  outputs_[i] = Tensor::view(dtype, std::move(shape), std::move(owner), data);
  return outputs_[i];
}

}  // namespace fulcrum::backends
