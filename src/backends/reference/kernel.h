// Reference kernels: naive, obviously correct implementations of every supported op. They
// are the oracle for every faster backend, so each reads like the ONNX spec it implements.
//
// A kernel is a function of a KernelContext. It reads the node's typed attributes and its
// input tensors, decides its output shapes, allocates outputs through the context and fills
// them. Kernels never write their inputs. Each kernel file registers its own kernels:
//
//   FULCRUM_REFERENCE_KERNEL(Relu, relu_kernel);
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "backends/kernel_context.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends::reference {

// Reference kernels take the same context as every backend's kernels.
using backends::KernelContext;

using KernelFn = Status (*)(KernelContext&);

// The reference kernel for an op, or nullptr.
KernelFn find_kernel(std::string_view domain, std::string_view op_type);
// The op types (domain-qualified for non-default domains) that have a reference kernel.
std::vector<std::string> kernel_ops();

struct KernelRegistrar {
  KernelRegistrar(std::string_view domain, std::string_view op_type, KernelFn fn);
};

}  // namespace fulcrum::backends::reference

#define FULCRUM_REFERENCE_KERNEL(op, fn)                                                                               \
  static const ::fulcrum::backends::reference::KernelRegistrar FULCRUM_CONCAT_(fulcrum_ref_kernel_, __LINE__)("", #op, \
                                                                                                              fn)
#define FULCRUM_REFERENCE_KERNEL_DOMAIN(domain, op, fn)                                                               \
  static const ::fulcrum::backends::reference::KernelRegistrar FULCRUM_CONCAT_(fulcrum_ref_kernel_, __LINE__)(domain, \
                                                                                                              #op, fn)
