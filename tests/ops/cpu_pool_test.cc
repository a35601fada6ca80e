// The CPU backend's pooling against the reference backend (tolerance: cpu_test_util.h).
#include "cpu_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

struct PoolCase {
  const char* name;
  const char* op;
  Shape x;
  ops::Attributes attrs;
};

TEST(CpuPool, MatchesReference) {
  const std::vector<PoolCase> cases = {
      {"max 3x3 s2 p1 (ResNet)",
       "MaxPool",
       {3, 5, 17, 15},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"max 2x2", "MaxPool", {1, 16, 8, 8}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}},
      {"max ceil_mode",
       "MaxPool",
       {2, 3, 10, 11},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}},
      {"max dilation 2", "MaxPool", {1, 4, 12, 13}, {{"kernel_shape", Ints{3, 2}}, {"dilations", Ints{2, 2}}}},
      {"max SAME_UPPER",
       "MaxPool",
       {1, 3, 9, 10},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}}},
      {"avg exclude pad",
       "AveragePool",
       {3, 7, 11, 9},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"avg include pad",
       "AveragePool",
       {2, 7, 11, 9},
       {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 2, 1, 0}}, {"count_include_pad", int64_t{1}}}},
      {"avg ceil_mode",
       "AveragePool",
       {1, 5, 10, 10},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}},
      {"global avg", "GlobalAveragePool", {3, 17, 7, 5}, {}},
      {"global avg 1x1", "GlobalAveragePool", {2, 9, 1, 1}, {}},
  };
  uint32_t seed = 1;
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(c.name);
    expect_cpu_matches_reference({c.op, {{random_tensor(c.x, seed++)}}, c.attrs});
  }
}

TEST(CpuPool, OtherCasesFallBackToReference) {
  // Indices output, 1-D pooling, LpPool, and the include-pad divisor under ceil_mode.
  expect_cpu_matches_reference({"MaxPool", {{random_tensor({1, 3, 6, 6})}}, {{"kernel_shape", Ints{2, 2}}}, 2},
                               "reference");
  expect_cpu_matches_reference({"MaxPool", {{random_tensor({1, 3, 9})}}, {{"kernel_shape", Ints{2}}}}, "reference");
  expect_cpu_matches_reference({"LpPool", {{random_tensor({1, 3, 6, 6})}}, {{"kernel_shape", Ints{2, 2}}}},
                               "reference");
  expect_cpu_matches_reference({"AveragePool",
                                {{random_tensor({1, 3, 6, 6})}},
                                {{"kernel_shape", Ints{3, 3}},
                                 {"strides", Ints{2, 2}},
                                 {"ceil_mode", int64_t{1}},
                                 {"count_include_pad", int64_t{1}}}},
                               "reference");
  expect_cpu_matches_reference({"GlobalAveragePool", {{random_tensor({1, 3, 4, 4}, 0, DType::kFloat64)}}}, "reference");
}

}  // namespace
}  // namespace fulcrum::testing
