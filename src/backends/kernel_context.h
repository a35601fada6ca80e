// KernelContext: what a kernel of any backend sees when it runs one node: the node (typed
// attributes, opset), its input tensors, and the outputs to allocate and fill.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::backends {

// Where a node's outputs get their bytes. The executor's implementation serves them from
// the activation arena of the running ExecutionContext; without one they come from the heap.
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  // Storage for output `index` of the running node, `bytes` long and 64-byte aligned.
  virtual Tensor allocate(size_t index, DType dtype, Shape shape, size_t bytes) = 0;
};

class KernelContext {
 public:
  KernelContext(const ir::Node& node, std::vector<const Tensor*> inputs, std::vector<Tensor>& outputs,
                OutputAllocator* allocator = nullptr)
      : node_(node), inputs_(std::move(inputs)), outputs_(outputs), allocator_(allocator) {}

  const ir::Node& node() const { return node_; }
  int64_t opset() const { return node_.opset; }
  template <class T>
  const T& attrs() const {
    return node_.attrs_as<T>();
  }

  // Number of input slots, including omitted optional inputs.
  size_t num_inputs() const { return inputs_.size(); }
  // True when input i exists and was not omitted (ONNX writes "" for an omitted input).
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  const Tensor& input(size_t i) const { return *inputs_[i]; }
  // Checks that the first names.size() inputs are present, so kernels may index them; the
  // error names the missing one ("required input 1 ('W') is missing").
  Status require_inputs(std::initializer_list<const char*> names) const;

  size_t num_outputs() const { return outputs_.size(); }
  // False for an omitted optional output (the kernel may skip computing it).
  bool wants_output(size_t i) const { return i < node_.outputs.size() && node_.outputs[i] != nullptr; }
  // Allocates output i, zero-filled, and returns it for the kernel to fill.
  Tensor& allocate_output(size_t i, DType dtype, Shape shape);
  // Allocates output i with its bytes left uninitialized: for kernels that write every
  // element (the optimized backends). Prefer it to allocating a tensor yourself: the
  // executor's memory plan serves it from the activation arena.
  Tensor& allocate_output_uninitialized(size_t i, DType dtype, Shape shape);
  // Sets output i to an existing tensor (a view of an input, for Reshape and friends).
  void set_output(size_t i, Tensor tensor) { outputs_[i] = std::move(tensor); }

 private:
  const ir::Node& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor>& outputs_;
  OutputAllocator* allocator_;
};

}  // namespace fulcrum::backends
