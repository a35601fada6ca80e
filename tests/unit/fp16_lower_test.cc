// LowerFp16: an FP16 layer's float32 weights become their nearest FP16 values, copy on
// write, and the float16 conversions it relies on agree with the scalar reference.
#include "passes/lower_fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/float16.h"
#include "core/float16_convert.h"
#include "passes_test_util.h"

namespace fulcrum::passes {
namespace {

using testing::GraphBuilder;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Values where rounding is easy to get wrong: ties, the range edges, subnormals, specials.
std::vector<float> tricky_values() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          65504.0f,
                          65519.99f,
                          65520.0f,
                          -65520.0f,
                          1e9f,
                          6.103515625e-05f /* 2^-14 */,
                          6.0e-05f,
                          5.960464477539063e-08f /* 2^-24 */,
                          2.98023223876953125e-08f /* 2^-25: a tie, to zero */,
                          2.99e-08f,
                          1e-30f,
                          1.0f + 1.0f / 2048 /* a tie between 1 and 1 + 2^-10: to even, 1 */,
                          1.0f + 3.0f / 2048 /* a tie: to even, 1 + 2^-9 */,
                          0.1f,
                          -3.14159f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::denorm_min()};
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) v.push_back(from_bits(static_cast<uint32_t>(rng()) & 0xff7fffffu));  // no NaN
  return v;
}

// Every path this CPU has (the AVX-512 and F16C ones, and the scalar one their tails use).
std::vector<Fp16Isa> available_isas() {
  std::vector<Fp16Isa> out = {Fp16Isa::kScalar};
  if (fp16_best_isa() >= Fp16Isa::kF16c) out.push_back(Fp16Isa::kF16c);
  if (fp16_best_isa() >= Fp16Isa::kAvx512) out.push_back(Fp16Isa::kAvx512);
  return out;
}

TEST(Fp16Convert, VectorPathsMatchTheScalarConversions) {
  std::vector<float> in = tricky_values();
  for (Fp16Isa isa : available_isas()) {
    SCOPED_TRACE("path " + std::to_string(static_cast<int>(isa)));
    for (size_t n : {in.size(), size_t{1}, size_t{7}, size_t{15}, size_t{17}}) {  // every tail length
      std::vector<float> rounded(n);
      std::vector<uint16_t> halves(n);
      std::vector<float> widened(n);
      round_to_fp16(in.data(), rounded.data(), n, isa);
      floats_to_halves(in.data(), halves.data(), n, isa);
      halves_to_floats(halves.data(), widened.data(), n, isa);
      for (size_t i = 0; i < n; ++i) {
        const uint16_t want = float_to_half(in[i]);
        ASSERT_EQ(halves[i], want) << "value " << in[i] << " (bits " << std::hex << bits(in[i]) << ")";
        ASSERT_EQ(bits(rounded[i]), bits(half_to_float(want))) << "value " << in[i];
        ASSERT_EQ(bits(widened[i]), bits(half_to_float(want))) << "value " << in[i];
      }
    }
    // Every one of the 65536 halves widens exactly (NaNs stay NaN).
    std::vector<uint16_t> all(65536);
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
    std::vector<float> wide(all.size());
    halves_to_floats(all.data(), wide.data(), all.size(), isa);
    for (size_t i = 0; i < all.size(); ++i) {
      const float want = half_to_float(all[i]);
      if (std::isnan(want))
        ASSERT_TRUE(std::isnan(wide[i]));
      else
        ASSERT_EQ(bits(wide[i]), bits(want)) << "half " << std::hex << i;
    }
  }
  // In place.
  std::vector<float> x = {0.1f, 1.0f + 1.0f / 4096};
  round_to_fp16(x.data(), x.data(), x.size());
  EXPECT_EQ(x[0], half_to_float(float_to_half(0.1f)));
  EXPECT_EQ(x[1], 1.0f);
}

TEST(Fp16Convert, ExactnessIsBitForBit) {
  std::vector<float> exact = {
      0.0f, -0.0f, 1.5f, -65504.0f, 5.960464477539063e-08f, std::numeric_limits<float>::infinity()};
  EXPECT_TRUE(fp16_exact(exact.data(), exact.size()));
  std::vector<float> big(5000, 0.25f);
  EXPECT_TRUE(fp16_exact(big.data(), big.size()));
  big[4321] = 0.1f;  // in a later block
  EXPECT_FALSE(fp16_exact(big.data(), big.size()));
  const float beyond = 65520.0f;
  EXPECT_FALSE(fp16_exact(&beyond, 1));
}

bool all_fp16(const Tensor& t) { return fp16_exact(t.data<float>(), static_cast<size_t>(t.numel())); }

TEST(LowerFp16, RoundsAnFp16LayersWeightsToTheNearestFp16) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {1, 2, 5, 5});
  Tensor w = testing::random_floats({3, 2, 3, 3}, 1);
  Tensor bias = testing::random_floats({3}, 2);
  const Tensor w_before = w.clone();
  ir::Node* conv = b.node("Conv", {x, b.constant("w", w), b.constant("b", bias)}, {"y"});
  conv->precision = Precision::kFp16;
  b.output(conv->outputs[0]);

  LowerFp16 pass;
  testing::run_pass_and_compare(pass, b.graph(), {testing::random_floats({1, 2, 5, 5}, 3)}, 1e-2f);
  const Tensor& lowered = conv->inputs[1]->constant;
  EXPECT_EQ(conv->inputs[1]->name(), "w") << "a weight only FP16 layers read keeps its name";
  ASSERT_TRUE(all_fp16(lowered));
  EXPECT_TRUE(all_fp16(conv->inputs[2]->constant));
  for (int64_t i = 0; i < w.numel(); ++i)
    ASSERT_EQ(lowered.data<float>()[i], half_to_float(float_to_half(w_before.data<float>()[i])));
  // The original tensor's bytes were not written (they may be the model file's mapping).
  EXPECT_EQ(std::memcmp(w.raw(), w_before.raw(), w.nbytes()), 0);
  EXPECT_NE(lowered.raw(), w.raw());

  // Lowered weights are FP16 already: a second run changes nothing (a fixed point).
  PassContext ctx;
  auto again = pass.run(b.graph(), ctx);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again);
}

TEST(LowerFp16, AConstantSharedWithAnFp32LayerIsCopied) {
  GraphBuilder b;
  ir::Value* x = b.input("x", DType::kFloat32, {4});
  Tensor k = testing::random_floats({4}, 5);
  ir::Value* shared = b.constant("k", k);
  ir::Node* fp16 = b.node("Add", {x, shared}, {"a"});
  ir::Node* fp32 = b.node("Mul", {fp16->outputs[0], shared}, {"m"});
  fp16->precision = Precision::kFp16;
  b.output(fp32->outputs[0]);

  LowerFp16 pass;
  PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  ASSERT_TRUE(ir::verify(b.graph()).is_ok());
  EXPECT_EQ(fp32->inputs[1], shared) << "the FP32 layer keeps the original";
  EXPECT_EQ(std::memcmp(shared->constant.raw(), k.raw(), k.nbytes()), 0);
  ASSERT_NE(fp16->inputs[1], shared) << "the FP16 layer gets its own copy";
  EXPECT_EQ(fp16->inputs[1]->name(), "k_fp16");
  EXPECT_TRUE(all_fp16(fp16->inputs[1]->constant));
  EXPECT_EQ(ctx.counters["lower_fp16"]["weights copied (shared with FP32 layers)"], 1);
}

TEST(LowerFp16, LeavesParametersIntegersAndFp32LayersAlone) {
  GraphBuilder b(13);
  ir::Value* x = b.input("x", DType::kFloat32, {1, 1, 2, 2});
  ir::Value* roi = b.constant("roi", Tensor::zeros(DType::kFloat32, {0}));
  ir::Value* scales = b.constant("scales", Tensor::from_vector<float>(DType::kFloat32, {4}, {1.0f, 1.0f, 1.1f, 1.1f}));
  ir::Node* resize = b.node("Resize", {x, roi, scales}, {"r"});
  resize->precision = Precision::kFp16;
  ir::Value* c = b.constant("c", testing::random_floats({1}, 6));
  ir::Node* fp32 = b.node("Add", {resize->outputs[0], c}, {"y"});
  b.output(fp32->outputs[0]);
  LowerFp16 pass;
  PassContext ctx;
  auto changed = pass.run(b.graph(), ctx);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(*changed) << "1.1 in a Resize's scales is a parameter, and 'c' belongs to an FP32 layer";
  EXPECT_EQ(resize->inputs[2]->constant.data<float>()[2], 1.1f);
}

}  // namespace
}  // namespace fulcrum::passes
