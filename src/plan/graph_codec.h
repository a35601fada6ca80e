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

// Set in a tensor's dtype byte when its bytes are stored as IEEE FP16 (float32 tensors only).
inline constexpr uint8_t kStoredAsFp16 = 0x80;

// Where a tensor's bytes went in the weight section, and how they are stored.
struct WeightSlot {
  uint64_t offset = 0;
  uint64_t nbytes = 0;  // bytes in the section (half the tensor's when stored as FP16)
  bool fp16 = false;    // a float32 tensor whose every value FP16 holds exactly, stored as FP16
};

// The weight section being laid out: each distinct tensor storage gets one aligned slot, so
// tensors that share bytes (a clone's constants, a tied weight) are stored once. A float32
// tensor that FP16 represents exactly (an FP16 layer's weights, after passes::LowerFp16) is
// stored as FP16: lossless, and half the bytes.
class WeightTable {
 public:
  // Where `tensor`'s bytes go in the weight section.
  WeightSlot place(const Tensor& tensor);
  uint64_t size() const { return size_; }
  // The bytes to write (an FP16 copy for a tensor stored as FP16) in offset order, with their offsets.
  const std::vector<std::pair<Tensor, uint64_t>>& entries() const { return entries_; }

 private:
  std::map<std::pair<const void*, size_t>, WeightSlot> placed_;
  std::vector<std::pair<Tensor, uint64_t>> entries_;
  uint64_t size_ = 0;
};

std::string encode_graph(const ir::Graph& graph, WeightTable& weights);

// Decodes a GRAPH section. Constants view `weights` (the WEIGHTS section, which `owner`
// keeps alive) rather than copying it; those stored as FP16 are widened into float32 copies. Errors say what is wrong,
// not in which file.
Result<std::unique_ptr<ir::Graph>> decode_graph(const uint8_t* data, size_t size, const uint8_t* weights,
                                                size_t weights_size, std::shared_ptr<const void> owner);

}  // namespace fulcrum::plan
