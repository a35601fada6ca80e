// Matrix multiplication ops: Gemm, MatMul, MatMulInteger, Einsum.
#pragma once

#include <string>
#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

struct GemmAttrs : OpAttrs {
  float alpha = 1.0f;
  float beta = 1.0f;
  bool trans_a = false;
  bool trans_b = false;
};

// An Einsum equation, parsed once. Labels are the equation's letters; kEllipsis stands for
// the "..." of a term (at most one per term).
struct EinsumAttrs : OpAttrs {
  static constexpr char kEllipsis = '.';
  std::string equation;
  std::vector<std::string> inputs;  // one term per input, e.g. "ij", ".k"
  std::string output;               // the explicit output, or the implicit one numpy would use
};

}  // namespace fulcrum::ops
