// Little-endian byte encoding for the engine file: ByteWriter appends fixed-width scalars and
// length-prefixed strings; ByteReader reads them back with a bounds check on every read.
// A reader that runs past its end (or is told a value is bad) fails once and stays failed,
// returning zeros, so decoders read a whole record and check ok() once instead of after
// every field; the first problem is the one reported.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fulcrum::plan {

static_assert(std::endian::native == std::endian::little, "the engine file is little-endian; add byte swapping");

class ByteWriter {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void u8(uint8_t v) { put(v); }
  void u32(uint32_t v) { put(v); }
  void u64(uint64_t v) { put(v); }
  void i64(int64_t v) { put(v); }
  void f32(float v) { put(v); }  // the bit pattern, so NaN and infinities survive
  void f64(double v) { put(v); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes_.append(s.data(), s.size());
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  template <class T>
  T get(const char* what) {
    T value{};
    if (!take(sizeof(T), what)) return value;
    std::memcpy(&value, data_ + pos_ - sizeof(T), sizeof(T));
    return value;
  }
  uint8_t u8(const char* what) { return get<uint8_t>(what); }
  uint32_t u32(const char* what) { return get<uint32_t>(what); }
  uint64_t u64(const char* what) { return get<uint64_t>(what); }
  int64_t i64(const char* what) { return get<int64_t>(what); }
  float f32(const char* what) { return get<float>(what); }
  double f64(const char* what) { return get<double>(what); }
  std::string str(const char* what) {
    uint32_t n = u32(what);
    if (!take(n, what)) return {};
    return std::string(reinterpret_cast<const char*>(data_ + pos_ - n), n);
  }
  // A element count, checked against the bytes left (each element takes at least
  // `min_element_bytes`), so a corrupt count cannot make the decoder allocate gigabytes.
  uint32_t count(const char* what, size_t min_element_bytes) {
    uint32_t n = u32(what);
    if (ok() && static_cast<uint64_t>(n) * min_element_bytes > size_ - pos_) {
      fail(std::string(what) + " count " + std::to_string(n) + " exceeds the section");
      return 0;
    }
    return n;
  }

  // Marks the reader failed with `message` (the first failure wins).
  void fail(const std::string& message) {
    if (error_.empty()) error_ = message;
    pos_ = size_;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

 private:
  bool take(size_t n, const char* what) {
    if (!ok()) return false;
    if (n > size_ - pos_) {
      fail(std::string("truncated at byte ") + std::to_string(pos_) + " reading " + what);
      return false;
    }
    pos_ += n;
    return true;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace fulcrum::plan
