// Evaluates nodes whose inputs are all constants on the reference backend (the same kernels
// that run the model) and turns their outputs into constants; folds Shape and Size of
// tensors whose type has fully static dims. Random ops, quantization ops (their int8
// weights must stay int8) and outputs larger than the cap are left alone.
#pragma once

#include <cstddef>

#include "passes/pass.h"

namespace fulcrum::passes {

class FoldConstants : public Pass {
 public:
  static constexpr size_t kDefaultMaxBytes = size_t{64} << 20;
  explicit FoldConstants(size_t max_output_bytes = kDefaultMaxBytes) : max_bytes_(max_output_bytes) {}
  std::string_view name() const override { return "fold_constants"; }
  Result<bool> run(ir::Graph& graph, PassContext& ctx) override;

 private:
  size_t max_bytes_;
};

}  // namespace fulcrum::passes
