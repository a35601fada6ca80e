// Tensor: a dtype, a shape and a reference-counted block of bytes. Copies share storage;
// clone() copies the bytes. Storage may belong to Fulcrum (aligned heap memory) or to an
// owner handed in by the caller (a mapped weights file, a protobuf string), so weights are
// never copied just to be viewed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fulcrum {

enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kBool,
};

// Bytes per element (0 for kUndefined).
size_t dtype_size(DType dtype);
// Lower-case name as numpy and the CLI spell it: "float32", "int64", "bool"...
const char* dtype_name(DType dtype);

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar).
int64_t shape_numel(const Shape& shape);
// "[1, 3, 224, 224]"
std::string shape_to_string(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // New storage of the given shape, zero-filled, aligned to 64 bytes.
  static Tensor zeros(DType dtype, Shape shape);
  // A view of memory owned by `owner` (kept alive as long as any view lives).
  static Tensor view(DType dtype, Shape shape, std::shared_ptr<const void> owner, const void* data);
  // A scalar or 1-D tensor from values.
  template <class T>
  static Tensor from_vector(DType dtype, Shape shape, const std::vector<T>& values);

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  const void* raw() const { return data_; }
  // Writable access. Views of read-only memory (mapped weights) must not be written:
  // only tensors made by zeros() or clone() are written by Fulcrum.
  void* mutable_raw() { return const_cast<void*>(data_); }
  template <class T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }
  template <class T>
  T* mutable_data() {
    return static_cast<T*>(mutable_raw());
  }

  // Same bytes, another shape of the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy in new storage.
  Tensor clone() const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<const void> owner_;
  const void* data_ = nullptr;
};

template <class T>
Tensor Tensor::from_vector(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor t = zeros(dtype, std::move(shape));
  T* out = t.mutable_data<T>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < t.numel(); ++i) out[i] = values[i];
  return t;
}

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

}  // namespace fulcrum
