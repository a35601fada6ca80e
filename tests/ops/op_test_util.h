// Builds a one-node graph in code and runs it on the reference backend.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/executor.h"
#include "fulcrum/tensor.h"
#include "ir/graph.h"

namespace fulcrum::testing {

struct OpRun {
  Status status;
  std::vector<Tensor> outputs;
};

// Runs `op_type` with `inputs` (an undefined Tensor marks an omitted optional input) and
// `attrs`, producing `num_outputs` outputs, at the given opset of the default domain.
OpRun run_op(const std::string& op_type, const std::vector<Tensor>& inputs, const ops::Attributes& attrs = {},
             size_t num_outputs = 1, int64_t opset = 17);

template <class T>
Tensor make_tensor(Shape shape, const std::vector<T>& values);

template <class T>
std::vector<T> values_of(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// The run failed with a message containing `needle`.
inline void expect_error(const OpRun& r, const std::string& needle) {
  ASSERT_FALSE(r.status.is_ok()) << "expected an error mentioning '" << needle << "'";
  EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
}

// The run failed as invalid input (not as unimplemented or internal), naming `needle`.
inline void expect_invalid_argument(const OpRun& r, const std::string& needle) {
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.to_string();
  EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
}

#define ASSERT_OK(r) ASSERT_TRUE((r).status.is_ok()) << (r).status.to_string()

// An int64 output of the given shape and values.
inline void expect_i64(const Tensor& t, const Shape& shape, const std::vector<int64_t>& values) {
  ASSERT_EQ(t.dtype(), DType::kInt64);
  ASSERT_EQ(t.shape(), shape);
  EXPECT_EQ(std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel()), values);
}

// Element-wise comparison with an absolute + relative tolerance.
void expect_near(const Tensor& actual, const Shape& shape, const std::vector<float>& expected, float tol = 1e-5f);

}  // namespace fulcrum::testing
