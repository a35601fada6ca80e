// The GRAPH section of an engine file: an optimized ir::Graph (values with their types,
// nodes with their raw attributes) encoded with ByteWriter, and its weights placed in the
// WEIGHTS section. Decoding validates every index, dtype, shape and offset, parses each
// node's attributes against its op schema and verifies the graph, so a decoded graph is as
// trustworthy as an imported one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::plan {

// Byte alignment of every tensor in the weight section (a cache line; what oneDNN wants).
inline constexpr uint64_t kWeightAlignment = 64;

// The weight section being laid out: each distinct tensor storage gets one aligned slot, so
// tensors that share bytes (a clone's constants, a tied weight) are stored once.
class WeightTable {
 public:
  // The offset of `tensor`'s bytes in the weight section.
  uint64_t place(const Tensor& tensor);
  uint64_t size() const { return size_; }
  // The tensors in offset order, with their offsets.
  const std::vector<std::pair<Tensor, uint64_t>>& entries() const { return entries_; }

 private:
  std::map<std::pair<const void*, size_t>, uint64_t> placed_;
  std::vector<std::pair<Tensor, uint64_t>> entries_;
  uint64_t size_ = 0;
};

std::string encode_graph(const ir::Graph& graph, WeightTable& weights);

// Decodes a GRAPH section. Constants view `weights` (the WEIGHTS section, which `owner`
// keeps alive) rather than copying it. Errors say what is wrong, not in which file.
Result<std::unique_ptr<ir::Graph>> decode_graph(const uint8_t* data, size_t size, const uint8_t* weights,
                                                size_t weights_size, std::shared_ptr<const void> owner);

}  // namespace fulcrum::plan
