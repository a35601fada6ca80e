// Building fulcrum.QConv / fulcrum.QMatMul nodes (ops/quantized_fused.h) in tests: random
// quantized tensors, the quantization attributes, and a one-node graph in domain "fulcrum".
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cpu_test_util.h"
#include "ops/quantized_fused.h"

namespace fulcrum::testing {

// Uniform integers in [lo, hi] of an 8-bit dtype.
inline Tensor random_8bit(Shape shape, DType dtype, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::kInt8)
      t.mutable_data<int8_t>()[i] = static_cast<int8_t>(dist(rng));
    else
      t.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(dist(rng));
  }
  return t;
}

inline Tensor random_int8(Shape shape, uint32_t seed) {
  return random_8bit(std::move(shape), DType::kInt8, seed, -127, 127);
}

// An activation of `dtype`: float32 in [-1, 1], or integers spanning the type.
inline Tensor random_activation(Shape shape, DType dtype, uint32_t seed) {
  if (dtype == DType::kFloat32) return random_tensor(std::move(shape), seed);
  return dtype == DType::kUInt8 ? random_8bit(std::move(shape), dtype, seed, 0, 255)
                                : random_8bit(std::move(shape), dtype, seed, -128, 127);
}

inline std::vector<float> random_scales(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& s : out) s = dist(rng);
  return out;
}

// The quantization attributes; `in_scale_key` / `in_dtype_key` are x_* (QConv) or a_* (QMatMul).
inline void set_quant_attrs(ops::Attributes& a, bool conv, float in_scale, DType in_dtype,
                            const std::vector<float>& w_scales, DType out_dtype, float out_scale,
                            const std::vector<float>& operand_scales) {
  a[conv ? ops::kXScale : ops::kAScale] = in_scale;
  a[conv ? ops::kXDtype : ops::kADtype] = std::string(ops::quant_dtype_name(in_dtype));
  a[ops::kWScales] = w_scales;
  a[ops::kYDtype] = std::string(ops::quant_dtype_name(out_dtype));
  if (out_dtype != DType::kFloat32) a[ops::kYScale] = out_scale;
  a[ops::kOperandScales] = operand_scales;
}

// A graph of one fulcrum-domain node (named "q0"): one_node_graph with the spec's domain set.
inline std::shared_ptr<ir::Graph> fulcrum_node_graph(NodeSpec spec, std::vector<Tensor>& feeds,
                                                     Status* parsed = nullptr) {
  spec.domain = ops::kFulcrumDomain;
  spec.name = "q0";
  return one_node_graph(spec, feeds, parsed);
}

// Runs the graph on the reference backend alone.
inline Result<std::vector<Tensor>> run_reference(std::shared_ptr<ir::Graph> graph, const std::vector<Tensor>& feeds) {
  FULCRUM_ASSIGN_OR_RETURN(auto exec, backends::Executor::create(graph));
  return exec->run(feeds);
}

// max |x| of a float32 tensor.
inline float max_abs(const Tensor& t) {
  float m = 0.f;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.data<float>()[i]));
  return m;
}

}  // namespace fulcrum::testing
