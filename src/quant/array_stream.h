// Arrays read along their leading axis from .npy files and from the members of .npz archives
// (stored or deflated, as numpy's savez and savez_compressed write them), a few rows at a time:
// the calibration data of a large data set never has to fit in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::quant {

// Bytes read in order from a file or an archive member.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads exactly `size` bytes; an error (naming the source) if fewer remain.
  virtual Status read(void* dst, size_t size) = 0;
};

// A .npy array whose rows (slices along axis 0) are read in order.
class NpyStream {
 public:
  // Parses the .npy header at the start of `source`; `name` goes into errors.
  static Result<std::unique_ptr<NpyStream>> open(std::unique_ptr<ByteSource> source, std::string name);

  const std::string& name() const { return name_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rows() const { return shape_[0]; }
  int64_t rows_left() const { return shape_[0] - next_row_; }
  size_t row_bytes() const { return row_bytes_; }
  // Reads the next `count` rows (count <= rows_left()) into `dst`.
  Status read_rows(int64_t count, void* dst);

 private:
  std::unique_ptr<ByteSource> source_;
  std::string name_;
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  size_t row_bytes_ = 0;
  int64_t next_row_ = 0;
};

Result<std::unique_ptr<NpyStream>> open_npy_stream(const std::string& path);

// One member of a .npz (zip) archive.
struct NpzMember {
  std::string name;     // the array name: the file name without ".npy"
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint64_t compressed_size = 0;
  uint64_t local_header_offset = 0;
};

// The .npy members of an archive, in archive order (zip64 included).
Result<std::vector<NpzMember>> list_npz(const std::string& path);
Result<std::unique_ptr<NpyStream>> open_npz_member(const std::string& path, const NpzMember& member);

}  // namespace fulcrum::quant
