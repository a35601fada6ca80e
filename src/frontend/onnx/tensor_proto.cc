#include "frontend/onnx/tensor_proto.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "ops/onnx_types.h"

namespace fulcrum::frontend::onnx {

using ::onnx::TensorProto;

DType dtype_from_onnx(int32_t onnx_type) { return ops::dtype_from_onnx_code(onnx_type); }

namespace {

const char* onnx_type_name(int32_t t) {
  return TensorProto::DataType_IsValid(t) ? TensorProto::DataType_Name(static_cast<TensorProto::DataType>(t)).c_str()
                                          : "INVALID";
}

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr && size > 0) munmap(addr, size);
  }
};

// Copies a repeated protobuf field into the tensor, converting element by element.
template <class Out, class Field>
void copy_field(const Field& field, Tensor& t) {
  Out* out = t.mutable_data<Out>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Out>(field.Get(i));
}

Status fill_from_typed_field(const TensorProto& proto, Tensor& t, const std::string& name) {
  const int64_t n = t.numel();
  auto need = [&](int have) -> Status {
    if (have != n)
      return invalid_argument("initializer '{}': holds {} values, its shape {} needs {}", name, have,
                              shape_to_string(t.shape()), n);
    return Status::ok();
  };
  switch (t.dtype()) {
    case DType::kFloat32:
      FULCRUM_RETURN_IF_ERROR(need(proto.float_data_size()));
      copy_field<float>(proto.float_data(), t);
      return Status::ok();
    case DType::kFloat64:
      FULCRUM_RETURN_IF_ERROR(need(proto.double_data_size()));
      copy_field<double>(proto.double_data(), t);
      return Status::ok();
    case DType::kInt64:
      FULCRUM_RETURN_IF_ERROR(need(proto.int64_data_size()));
      copy_field<int64_t>(proto.int64_data(), t);
      return Status::ok();
    case DType::kUInt32:
    case DType::kUInt64:
      FULCRUM_RETURN_IF_ERROR(need(proto.uint64_data_size()));
      if (t.dtype() == DType::kUInt32)
        copy_field<uint32_t>(proto.uint64_data(), t);
      else
        copy_field<uint64_t>(proto.uint64_data(), t);
      return Status::ok();
    default: break;
  }
  // int32_data carries every type of 32 bits or fewer (float16/bfloat16 as their bits).
  FULCRUM_RETURN_IF_ERROR(need(proto.int32_data_size()));
  switch (t.dtype()) {
    case DType::kInt32: copy_field<int32_t>(proto.int32_data(), t); break;
    case DType::kInt16: copy_field<int16_t>(proto.int32_data(), t); break;
    case DType::kUInt16:
    case DType::kFloat16:
    case DType::kBFloat16: copy_field<uint16_t>(proto.int32_data(), t); break;
    case DType::kInt8: copy_field<int8_t>(proto.int32_data(), t); break;
    case DType::kUInt8: copy_field<uint8_t>(proto.int32_data(), t); break;
    case DType::kBool: copy_field<bool>(proto.int32_data(), t); break;
    default: return internal_error("initializer '{}': unhandled dtype", name);
  }
  return Status::ok();
}

}  // namespace

Result<std::pair<std::shared_ptr<const void>, const void*>> ExternalData::map(const std::string& location,
                                                                              size_t offset, size_t* length,
                                                                              const std::string& tensor) {
  namespace fs = std::filesystem;
  if (fs::path(location).is_absolute() || location.find("..") != std::string::npos)
    return invalid_argument(
        "initializer '{}': external data location '{}' must be a relative path inside the "
        "model's folder",
        tensor, location);
  std::string path = (fs::path(model_dir_) / location).string();
  auto it = files_.find(path);
  if (it == files_.end()) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return io_error("initializer '{}': cannot open external data file {}", tensor, path);
    struct stat st {};
    fstat(fd, &st);
    auto m = std::make_shared<Mapping>();
    m->size = static_cast<size_t>(st.st_size);
    if (m->size > 0) {
      m->addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m->addr == MAP_FAILED) {
        ::close(fd);
        m->addr = nullptr;
        return io_error("initializer '{}': cannot map external data file {}", tensor, path);
      }
    }
    ::close(fd);
    it = files_.emplace(path, m).first;
    sizes_[path] = m->size;
  }
  size_t size = sizes_[path];
  if (*length == SIZE_MAX) *length = size > offset ? size - offset : 0;
  if (offset > size || *length > size - offset)
    return invalid_argument("initializer '{}': external data [{}, +{}) lies outside {} ({} bytes)", tensor, offset,
                            *length, path, size);
  auto mapping = std::static_pointer_cast<const Mapping>(it->second);
  const void* data = static_cast<const char*>(mapping->addr) + offset;
  return std::make_pair(std::shared_ptr<const void>(it->second), data);
}

Result<Tensor> tensor_from_proto(TensorProto& proto, ExternalData* external) {
  const std::string& name = proto.name();
  DType dtype = dtype_from_onnx(proto.data_type());
  if (dtype == DType::kUndefined)
    return unimplemented("tensor '{}': data type {} is not supported", name, onnx_type_name(proto.data_type()));
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) return invalid_argument("tensor '{}': negative dimension in {}", name, shape_to_string(shape));
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);

  if (proto.data_location() == TensorProto::EXTERNAL) {
    if (external == nullptr) return invalid_argument("tensor '{}': external data is not allowed here", name);
    std::string location;
    size_t offset = 0, length = SIZE_MAX;
    for (const auto& kv : proto.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoull(kv.value());
      else if (kv.key() == "length")
        length = std::stoull(kv.value());
    }
    if (location.empty()) return invalid_argument("tensor '{}': external data has no location", name);
    FULCRUM_ASSIGN_OR_RETURN(auto mapped, external->map(location, offset, &length, name));
    if (length < bytes)
      return invalid_argument("tensor '{}': external data holds {} bytes, shape {} of {} needs {}", name, length,
                              shape_to_string(shape), dtype_name(dtype), bytes);
    return Tensor::view(dtype, shape, mapped.first, mapped.second);
  }

  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      return invalid_argument("tensor '{}': raw data holds {} bytes, shape {} of {} needs {}", name,
                              proto.raw_data().size(), shape_to_string(shape), dtype_name(dtype), bytes);
    // Move the bytes out of the protobuf: a 440 MB model must not be held twice.
    auto owner = std::make_shared<std::string>(std::move(*proto.mutable_raw_data()));
    proto.clear_raw_data();
    if (reinterpret_cast<uintptr_t>(owner->data()) % 16 != 0) {
      Tensor t = Tensor::zeros(dtype, shape);
      std::memcpy(t.mutable_raw(), owner->data(), bytes);
      return t;
    }
    const void* data = owner->data();
    return Tensor::view(dtype, shape, std::shared_ptr<const void>(owner, owner.get()), data);
  }

  Tensor t = Tensor::zeros(dtype, shape);
  FULCRUM_RETURN_IF_ERROR(fill_from_typed_field(proto, t, name));
  return t;
}

}  // namespace fulcrum::frontend::onnx
