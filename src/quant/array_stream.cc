#include "quant/array_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>

#include "core/error.h"

namespace fulcrum::quant {
namespace {

// A byte range of a file.
class FileSource final : public ByteSource {
 public:
  FileSource(std::string path, std::ifstream in, uint64_t size)
      : path_(std::move(path)), in_(std::move(in)), left_(size) {}
  Status read(void* dst, size_t size) override {
    if (size > left_ || !in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(size)))
      return parse_error("{}: truncated ({} more bytes expected)", path_, size);
    left_ -= size;
    return Status::ok();
  }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t left_;
};

// A raw deflate stream (zip method 8) inflated on demand, 64 KiB of input at a time.
class InflateSource final : public ByteSource {
 public:
  InflateSource(std::string name, std::ifstream in, uint64_t compressed)
      : name_(std::move(name)), in_(std::move(in)), compressed_left_(compressed), input_(1 << 16) {
    std::memset(&z_, 0, sizeof(z_));
    ok_ = inflateInit2(&z_, -MAX_WBITS) == Z_OK;
  }
  ~InflateSource() override {
    if (ok_) inflateEnd(&z_);
  }
  Status read(void* dst, size_t size) override {
    if (!ok_) return internal_error("{}: zlib initialisation failed", name_);
    z_.next_out = static_cast<Bytef*>(dst);
    z_.avail_out = static_cast<uInt>(size);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && compressed_left_ > 0) {
        const size_t chunk = static_cast<size_t>(std::min<uint64_t>(input_.size(), compressed_left_));
        if (!in_.read(reinterpret_cast<char*>(input_.data()), static_cast<std::streamsize>(chunk)))
          return parse_error("{}: truncated compressed data", name_);
        compressed_left_ -= chunk;
        z_.next_in = input_.data();
        z_.avail_in = static_cast<uInt>(chunk);
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END && z_.avail_out > 0) return parse_error("{}: compressed data ends early", name_);
      if (rc != Z_OK && rc != Z_STREAM_END)
        return parse_error("{}: corrupt compressed data ({})", name_, z_.msg ? z_.msg : "zlib error");
      if (rc == Z_OK && z_.avail_in == 0 && compressed_left_ == 0 && z_.avail_out > 0)
        return parse_error("{}: compressed data ends early", name_);
    }
    return Status::ok();
  }

 private:
  std::string name_;
  std::ifstream in_;
  uint64_t compressed_left_;
  std::vector<Bytef> input_;
  z_stream z_;
  bool ok_ = false;
};

struct Descr {
  const char* code;
  DType dtype;
};
constexpr Descr kDescrs[] = {{"f4", DType::kFloat32}, {"f2", DType::kFloat16}, {"f8", DType::kFloat64},
                             {"i1", DType::kInt8},    {"u1", DType::kUInt8},   {"i4", DType::kInt32},
                             {"i8", DType::kInt64},   {"b1", DType::kBool}};

uint64_t le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Result<std::ifstream> open_at(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("{}: cannot open file", path);
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in) return parse_error("{}: offset {} is past the end of the file", path, offset);
  return in;
}

}  // namespace

Result<std::unique_ptr<NpyStream>> NpyStream::open(std::unique_ptr<ByteSource> source, std::string name) {
  unsigned char prefix[10];
  if (!source->read(prefix, 10).is_ok() || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
    return parse_error("{}: not a .npy array (bad magic bytes)", name);
  uint64_t header_len = le(prefix + 8, 2);
  std::string header;
  if (prefix[6] >= 2) {  // versions 2 and 3: a 4-byte length
    unsigned char rest[2];
    FULCRUM_RETURN_IF_ERROR(source->read(rest, 2));
    header_len = le(prefix + 8, 2) | (le(rest, 2) << 16);
  }
  if (header_len > (1u << 20)) return parse_error("{}: .npy header too long", name);
  header.resize(header_len);
  FULCRUM_RETURN_IF_ERROR(source->read(header.data(), header.size()));

  std::smatch m;
  auto stream = std::make_unique<NpyStream>();
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([<|=>])(\\w\\d)'")))
    return parse_error("{}: .npy header has no readable 'descr'", name);
  const std::string code = m[2].str();
  for (const Descr& d : kDescrs)
    if (code == d.code && m[1].str() != ">") stream->dtype_ = d.dtype;
  if (stream->dtype_ == DType::kUndefined)
    return parse_error("{}: unsupported .npy dtype '{}{}' (calibration data is little-endian float32, or integers)",
                       name, m[1].str(), code);
  if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
    return parse_error("{}: Fortran-order array; save np.ascontiguousarray(a)", name);
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    return parse_error("{}: .npy header has no 'shape'", name);
  const std::string dims = m[1].str();
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    stream->shape_.push_back(std::stoll(it->str()));
  if (stream->shape_.empty())
    return invalid_argument("{}: a scalar; calibration arrays need a leading batch axis", name);
  stream->row_bytes_ = dtype_size(stream->dtype_);
  for (size_t i = 1; i < stream->shape_.size(); ++i) stream->row_bytes_ *= static_cast<size_t>(stream->shape_[i]);
  stream->source_ = std::move(source);
  stream->name_ = std::move(name);
  return stream;
}

Status NpyStream::read_rows(int64_t count, void* dst) {
  if (count > rows_left()) return internal_error("{}: {} rows requested, {} left", name_, count, rows_left());
  Status status = source_->read(dst, static_cast<size_t>(count) * row_bytes_);
  if (!status.is_ok())
    return status.with_context(fmt::format("{}: rows {} to {}", name_, next_row_, next_row_ + count));
  next_row_ += count;
  return Status::ok();
}

Result<std::unique_ptr<NpyStream>> open_npy_stream(const std::string& path) {
  FULCRUM_ASSIGN_OR_RETURN(std::ifstream in, open_at(path, 0));
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  return NpyStream::open(std::make_unique<FileSource>(path, std::move(in), size), path);
}

namespace {

// The zip central directory: found through the end-of-central-directory record (22 bytes plus
// a comment of up to 64 KiB, at the end of the file), or its zip64 version.
Result<std::vector<unsigned char>> read_central_directory(const std::string& path, uint64_t& entries) {
  FULCRUM_ASSIGN_OR_RETURN(std::ifstream in, open_at(path, 0));
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  const uint64_t tail_size = std::min<uint64_t>(file_size, 22 + 65535);
  std::vector<unsigned char> tail(tail_size);
  in.seekg(static_cast<std::streamoff>(file_size - tail_size));
  in.read(reinterpret_cast<char*>(tail.data()), static_cast<std::streamsize>(tail_size));
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail_size) - 22; i >= 0 && eocd < 0; --i)
    if (le(&tail[static_cast<size_t>(i)], 4) == 0x06054b50) eocd = i;
  if (eocd < 0) return parse_error("{}: not a .npz (zip) archive", path);
  const unsigned char* record = &tail[static_cast<size_t>(eocd)];
  entries = le(record + 10, 2);
  uint64_t cd_size = le(record + 12, 4);
  uint64_t cd_offset = le(record + 16, 4);
  if (cd_offset == 0xffffffff || entries == 0xffff) {  // zip64: its locator sits just before
    if (eocd < 20 || le(record - 20, 4) != 0x07064b50)
      return parse_error("{}: zip64 archive without its locator", path);
    unsigned char rec[56];
    in.seekg(static_cast<std::streamoff>(le(record - 12, 8)));
    if (!in.read(reinterpret_cast<char*>(rec), 56) || le(rec, 4) != 0x06064b50)
      return parse_error("{}: corrupt zip64 end of central directory", path);
    entries = le(rec + 32, 8);
    cd_size = le(rec + 40, 8);
    cd_offset = le(rec + 48, 8);
  }
  if (cd_offset + cd_size > file_size) return parse_error("{}: corrupt zip central directory", path);
  std::vector<unsigned char> cd(cd_size);
  in.seekg(static_cast<std::streamoff>(cd_offset));
  if (!in.read(reinterpret_cast<char*>(cd.data()), static_cast<std::streamsize>(cd_size)))
    return parse_error("{}: truncated zip central directory", path);
  return cd;
}

}  // namespace

Result<std::vector<NpzMember>> list_npz(const std::string& path) {
  uint64_t entries = 0;
  FULCRUM_ASSIGN_OR_RETURN(std::vector<unsigned char> cd, read_central_directory(path, entries));
  std::vector<NpzMember> members;
  for (size_t pos = 0, i = 0; i < entries; ++i) {
    if (pos + 46 > cd.size() || le(&cd[pos], 4) != 0x02014b50)
      return parse_error("{}: corrupt zip central directory (entry {})", path, i);
    const unsigned char* e = &cd[pos];
    const size_t name_len = le(e + 28, 2), extra_len = le(e + 30, 2), comment_len = le(e + 32, 2);
    if (pos + 46 + name_len + extra_len + comment_len > cd.size())
      return parse_error("{}: corrupt zip central directory (entry {})", path, i);
    NpzMember m;
    m.name.assign(reinterpret_cast<const char*>(e + 46), name_len);
    m.method = static_cast<uint16_t>(le(e + 10, 2));
    m.compressed_size = le(e + 20, 4);
    uint64_t size = le(e + 24, 4);
    m.local_header_offset = le(e + 42, 4);
    // Zip64 extra field: the 64-bit values of the 32-bit fields that are all ones, in order.
    for (size_t x = 0; x + 4 <= extra_len;) {
      const unsigned char* f = e + 46 + name_len + x;
      const size_t id = le(f, 2), len = le(f + 2, 2);
      size_t v = 4;
      if (id == 0x0001) {
        for (uint64_t* field : {&size, &m.compressed_size, &m.local_header_offset})
          if (*field == 0xffffffff && v + 8 <= 4 + len) *field = le(f + v, 8), v += 8;
      }
      x += 4 + len;
    }
    if (le(e + 8, 2) & 1) return unimplemented("{}: member '{}' is encrypted", path, m.name);
    if (m.name.size() > 4 && m.name.ends_with(".npy")) {
      m.name.resize(m.name.size() - 4);
      members.push_back(std::move(m));
    }
    pos += 46 + name_len + extra_len + comment_len;
  }
  return members;
}

Result<std::unique_ptr<NpyStream>> open_npz_member(const std::string& path, const NpzMember& member) {
  const std::string name = fmt::format("{}:{}.npy", path, member.name);
  FULCRUM_ASSIGN_OR_RETURN(std::ifstream in, open_at(path, member.local_header_offset));
  unsigned char local[30];
  if (!in.read(reinterpret_cast<char*>(local), 30) || le(local, 4) != 0x04034b50)
    return parse_error("{}: corrupt zip local header", name);
  in.seekg(static_cast<std::streamoff>(le(local + 26, 2) + le(local + 28, 2)), std::ios::cur);
  std::unique_ptr<ByteSource> source;
  if (member.method == 0)
    source = std::make_unique<FileSource>(name, std::move(in), member.compressed_size);
  else if (member.method == 8)
    source = std::make_unique<InflateSource>(name, std::move(in), member.compressed_size);
  else
    return unimplemented("{}: zip compression method {} (numpy writes 0, stored, or 8, deflate)", name, member.method);
  return NpyStream::open(std::move(source), name);
}

}  // namespace fulcrum::quant
