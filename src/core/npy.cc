// NumPy .npy reader and writer (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
#include "fulcrum/npy.h"

#include <cstring>
#include <fstream>
#include <regex>

#include "core/error.h"

namespace fulcrum {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct DescrEntry {
  const char* code;  // without the byte-order character
  DType dtype;
};
constexpr DescrEntry kDescrs[] = {
    {"f4", DType::kFloat32}, {"f2", DType::kFloat16}, {"f8", DType::kFloat64}, {"i1", DType::kInt8},
    {"u1", DType::kUInt8},   {"i2", DType::kInt16},   {"u2", DType::kUInt16},  {"i4", DType::kInt32},
    {"u4", DType::kUInt32},  {"i8", DType::kInt64},   {"u8", DType::kUInt64},  {"b1", DType::kBool},
};

Result<DType> parse_descr(const std::string& descr, const std::string& path) {
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=')) {
    for (const auto& e : kDescrs)
      if (descr.compare(1, 2, e.code) == 0) return e.dtype;
  }
  if (!descr.empty() && descr[0] == '>')
    return parse_error(
        "{}: big-endian arrays ('{}') are not supported; save with "
        "arr.astype(arr.dtype.newbyteorder('<'))",
        path, descr);
  return parse_error("{}: unsupported .npy dtype '{}'", path, descr);
}

Result<std::string> header_value(const std::string& header, const std::string& key, const std::string& path) {
  std::smatch m;
  std::regex re("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  if (!std::regex_search(header, m, re)) return parse_error("{}: .npy header has no '{}'", path, key);
  return m[1].str();
}

Result<Shape> parse_shape(const std::string& text, const std::string& path) {
  Shape shape;
  std::string inner = text.substr(1, text.size() - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    while (pos < inner.size() && (inner[pos] == ' ' || inner[pos] == ',')) ++pos;
    if (pos >= inner.size()) break;
    size_t end = pos;
    while (end < inner.size() && std::isdigit(static_cast<unsigned char>(inner[end]))) ++end;
    if (end == pos) return parse_error("{}: bad shape {} in .npy header", path, text);
    shape.push_back(std::stoll(inner.substr(pos, end - pos)));
    pos = end;
    while (pos < inner.size() && inner[pos] == 'L') ++pos;
  }
  return shape;
}

const char* descr_of(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "<f4";
    case DType::kFloat16: return "<f2";
    case DType::kFloat64: return "<f8";
    case DType::kInt8: return "|i1";
    case DType::kUInt8: return "|u1";
    case DType::kInt16: return "<i2";
    case DType::kUInt16: return "<u2";
    case DType::kInt32: return "<i4";
    case DType::kUInt32: return "<u4";
    case DType::kInt64: return "<i8";
    case DType::kUInt64: return "<u8";
    case DType::kBool: return "|b1";
    default: return nullptr;
  }
}

}  // namespace

Result<Tensor> load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("{}: cannot open file", path);
  char magic[6];
  uint8_t version[2];
  if (!in.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0)
    return parse_error("{}: not a .npy file (bad magic bytes)", path);
  if (!in.read(reinterpret_cast<char*>(version), 2)) return parse_error("{}: truncated .npy header", path);
  uint32_t header_len = 0;
  if (version[0] == 1) {
    uint8_t b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) return parse_error("{}: truncated .npy header", path);
    header_len = b[0] | (b[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    uint8_t b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) return parse_error("{}: truncated .npy header", path);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    return parse_error("{}: unsupported .npy version {}.{}", path, version[0], version[1]);
  }
  if (header_len > (1u << 20)) return parse_error("{}: .npy header too long", path);
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) return parse_error("{}: truncated .npy header", path);

  FULCRUM_ASSIGN_OR_RETURN(std::string descr_text, header_value(header, "descr", path));
  FULCRUM_ASSIGN_OR_RETURN(std::string fortran, header_value(header, "fortran_order", path));
  FULCRUM_ASSIGN_OR_RETURN(std::string shape_text, header_value(header, "shape", path));
  if (descr_text.size() < 2 || descr_text.front() != '\'') return parse_error("{}: bad descr in .npy header", path);
  FULCRUM_ASSIGN_OR_RETURN(DType dtype, parse_descr(descr_text.substr(1, descr_text.size() - 2), path));
  if (fortran == "True")
    return parse_error("{}: Fortran-order arrays are not supported; save np.ascontiguousarray(arr)", path);
  if (shape_text.front() != '(') return parse_error("{}: bad shape in .npy header", path);
  FULCRUM_ASSIGN_OR_RETURN(Shape shape, parse_shape(shape_text, path));
  for (int64_t d : shape)
    if (d < 0 || d > (int64_t{1} << 40)) return parse_error("{}: bad dimension {} in .npy header", path, d);

  Tensor t = Tensor::zeros(dtype, shape);
  auto data_start = in.tellg();
  in.seekg(0, std::ios::end);
  auto available = static_cast<size_t>(in.tellg() - data_start);
  if (available < t.nbytes())
    return parse_error("{}: truncated .npy data: shape {} of {} needs {} bytes, file has {}", path,
                       shape_to_string(shape), dtype_name(dtype), t.nbytes(), available);
  in.seekg(data_start);
  if (t.nbytes() > 0 && !in.read(static_cast<char*>(t.mutable_raw()), static_cast<std::streamsize>(t.nbytes())))
    return io_error("{}: read failed", path);
  return t;
}

Status save_npy(const std::string& path, const Tensor& tensor) {
  const char* descr = descr_of(tensor.dtype());
  if (descr == nullptr) return unimplemented("{}: cannot write dtype {} to .npy", path, dtype_name(tensor.dtype()));
  const Shape& dims = tensor.shape();
  std::string shape = dims.size() == 1 ? fmt::format("{},", dims[0]) : fmt::format("{}", fmt::join(dims, ", "));
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) return io_error("{}: cannot create file", path);
  out.write(kMagic, 6);
  const char version[2] = {1, 0};
  out.write(version, 2);
  uint16_t len = static_cast<uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!out) return io_error("{}: write failed", path);
  return Status::ok();
}

}  // namespace fulcrum
