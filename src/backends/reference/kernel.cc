#include "backends/reference/kernel.h"

#include <map>

#include <string>
#include "core/error.h"

namespace fulcrum::backends::reference {
namespace {

std::map<std::pair<std::string, std::string>, KernelFn, std::less<>>& table() {
  static std::map<std::pair<std::string, std::string>, KernelFn, std::less<>> t;
  return t;
}

}  // namespace

KernelRegistrar::KernelRegistrar(std::string_view domain, std::string_view op_type, KernelFn fn) {
  table()[{std::string(domain), std::string(op_type)}] = fn;
}

KernelFn find_kernel(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  auto it = table().find(std::pair<std::string, std::string>(domain, op_type));
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> kernel_ops() {
  std::vector<std::string> out;
  for (const auto& [key, fn] : table()) out.push_back(key.first.empty() ? key.second : key.first + "." + key.second);
  return out;
}

}  // namespace fulcrum::backends::reference
