#include "passes/cpu_fuse_depthwise.h"

#include <gtest/gtest.h>

#include "ops/fused.h"
#include "passes/cpu_blocked_layout.h"
#include "passes/fuse_epilogue.h"
#include "passes_test_util.h"

namespace fulcrum::testing {
namespace {

using Ints = std::vector<int64_t>;

// x -> stem 1x1 (16) -> expand 1x1 (C, ReLU) -> depthwise 3x3 (stride) -> project 1x1 (16).
struct Block {
  GraphBuilder b{13};
  ir::Value* expanded = nullptr;
  Block(int64_t channels, int64_t size, int64_t stride, bool second_reader = false) {
    ir::Value* x = b.input("x", DType::kFloat32, {-1, 16, size, size});
    ir::Node* stem = b.node("Conv", {x, b.constant("w0", random_floats({16, 16, 1, 1}, 1))}, {"stem"});
    ir::Node* expand =
        b.node("Conv",
               {typed(stem, {-1, 16, size, size}), b.constant("w1", random_floats({channels, 16, 1, 1}, 2)),
                b.constant("b1", random_floats({channels}, 3))},
               {"expand"});
    expanded =
        typed(b.node("Relu", {typed(expand, {-1, channels, size, size})}, {"expanded"}), {-1, channels, size, size});
    const int64_t out = size / stride;
    ir::Node* dw = b.node("Conv", {expanded, b.constant("w2", random_floats({channels, 1, 3, 3}, 4))}, {"dw"},
                          {{"group", channels}, {"strides", Ints{stride, stride}}, {"pads", Ints{1, 1, 1, 1}}});
    ir::Node* project =
        b.node("Conv", {typed(dw, {-1, channels, out, out}), b.constant("w3", random_floats({16, channels, 1, 1}, 5))},
               {"project"});
    b.output(typed(project, {-1, 16, out, out}));
    if (second_reader)
      b.output(typed(b.node("Conv", {expanded, b.constant("w4", random_floats({16, channels, 1, 1}, 6))}, {"other"}),
                     {-1, 16, size, size}));
    passes::PassContext ctx;
    EXPECT_TRUE(passes::FuseEpilogue().run(b.graph(), ctx).is_ok());
    EXPECT_TRUE(passes::CpuBlockedLayout(16).run(b.graph(), ctx).is_ok());
  }
};

TEST(CpuFuseDepthwise, FusesALargeExpansionIntoOneNode) {
  for (int64_t stride : {1, 2}) {
    Block block(96, 56, stride);  // 96 x 56 x 56 floats: 1.2 MB per image
    passes::CpuFuseDepthwise pass;
    run_pass_and_compare(pass, block.b.graph(), {random_floats({2, 16, 56, 56}, 7)});
    EXPECT_EQ(count_ops(block.b.graph(), "FusedConvDepthwise"), 1) << ir::to_string(block.b.graph());
    EXPECT_EQ(count_ops(block.b.graph(), "FusedConv"), 2);  // stem and project
    EXPECT_EQ(block.b.graph().find_value("expanded"), nullptr);
  }
}

TEST(CpuFuseDepthwise, LeavesSmallOrSharedExpansions) {
  passes::PassContext ctx;
  Block small(192, 28, 1);  // 0.6 MB per image: fusing it was slower
  auto changed = passes::CpuFuseDepthwise().run(small.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
  Block shared(96, 56, 1, true);  // another conv reads the expanded tensor
  changed = passes::CpuFuseDepthwise().run(shared.b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed);
}

}  // namespace
}  // namespace fulcrum::testing
