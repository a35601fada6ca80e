// numpy broadcasting of two operands as rows: the output is [rows, inner], and each operand
// reads its inner run either contiguously (step 1) or as one repeated element (step 0).
// Size-1 axes are dropped and adjacent axes that both operands read the same way are
// merged first, so [B, S, 768] + [768] is 768-element rows with B*S row offsets.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "fulcrum/tensor.h"

namespace fulcrum::backends::cpu {

struct BroadcastPlan {
  Shape out_shape;  // the broadcast shape, as the op's output
  int64_t rows = 1;
  int64_t inner = 1;
  int a_inner_step = 0, b_inner_step = 0;
  // The merged outer axes (row-major) and each operand's element stride along them.
  std::vector<int64_t> outer_dims, a_strides, b_strides;

  // Element offsets of row r's first element in a and b.
  std::pair<int64_t, int64_t> row_offsets(int64_t r) const {
    int64_t ao = 0, bo = 0;
    for (size_t d = outer_dims.size(); d-- > 0;) {
      const int64_t i = r % outer_dims[d];
      r /= outer_dims[d];
      ao += i * a_strides[d];
      bo += i * b_strides[d];
    }
    return {ao, bo};
  }

  // The plan for a op b, or nullopt when the shapes do not broadcast.
  static std::optional<BroadcastPlan> make(const Shape& a, const Shape& b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape as(rank - a.size(), 1), bs(rank - b.size(), 1);
    as.insert(as.end(), a.begin(), a.end());
    bs.insert(bs.end(), b.begin(), b.end());
    BroadcastPlan p;
    p.out_shape.resize(rank);
    for (size_t d = 0; d < rank; ++d) {
      if (as[d] != bs[d] && as[d] != 1 && bs[d] != 1) return std::nullopt;
      p.out_shape[d] = as[d] == 1 ? bs[d] : as[d];
    }
    // Axes of the output other than size 1, with the operands' strides (0: broadcast).
    std::vector<int64_t> dims, sa, sb;
    int64_t stride_a = 1, stride_b = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t n = p.out_shape[d];
      if (n == 0) {
        p.rows = 0;
        return p;
      }
      if (n != 1) {
        const int64_t ea = as[d] == 1 ? 0 : stride_a, eb = bs[d] == 1 ? 0 : stride_b;
        // Merge into the inner neighbour when both operands continue it contiguously.
        if (!dims.empty() && ea == sa.back() * dims.back() && eb == sb.back() * dims.back()) {
          dims.back() *= n;
        } else {
          dims.push_back(n);
          sa.push_back(ea);
          sb.push_back(eb);
        }
      }
      stride_a *= as[d];
      stride_b *= bs[d];
    }
    if (dims.empty()) return p;  // one element
    p.inner = dims.front();
    p.a_inner_step = static_cast<int>(sa.front());
    p.b_inner_step = static_cast<int>(sb.front());
    for (size_t d = dims.size(); d-- > 1;) {
      p.outer_dims.push_back(dims[d]);
      p.a_strides.push_back(sa[d]);
      p.b_strides.push_back(sb[d]);
      p.rows *= dims[d];
    }
    return p;
  }
};

}  // namespace fulcrum::backends::cpu
