// Issue 4's FP16 acceptance: Fashion-MNIST top-1 in FP16 within 0.1 points of FP32, for the
// CNN and the ViT (models/fashion). Needs the test set as .npy (`.venv/bin/python
// models/fashion/data.py --out DIR`); set FULCRUM_FASHION_DATA=DIR, else the test skips.
//
// FP16 here is what a GPU's FP16 engine computes, predicted on the CPU: weights rounded to
// FP16 (LowerFp16), every FP16 layer's output rounded to FP16 (FP16 numerics), and the input
// images rounded to FP16 too. "every layer" forces all layers to FP16, unsafe ones included;
// "safe layers" is what the data-free rule (fp16_safety.h) picks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "backends/cpu/cpu_backend.h"
#include "backends/executor.h"
#include "core/float16_convert.h"
#include "frontend/onnx/importer.h"
#include "fulcrum/npy.h"
#include "ir/graph_edit.h"
#include "passes/fp16_safety.h"
#include "passes/lower_fp16.h"
#include "plan/engine_file.h"
#include "runtime/engine_impl.h"

namespace fulcrum {
namespace {

constexpr int64_t kBatch = 500;

enum class Mode { kFp32, kFp16WeightsOnly, kFp16SafeLayers, kFp16EveryLayer };

struct Dataset {
  std::shared_ptr<Tensor> images;  // N x 1 x 28 x 28
  Tensor labels;                   // N, int64
};

double top1(const ir::Graph& imported, const Dataset& data, Mode mode) {
  BuilderConfig config;
  config.threads = 2;
  auto optimized = runtime::optimize(imported, config);
  EXPECT_TRUE(optimized.is_ok()) << optimized.status().to_string();
  std::unique_ptr<ir::Graph> graph = std::move(optimized).value();
  int fp16_layers = 0;
  std::map<std::string, int> kept_fp32;  // why, for the log
  for (const auto& n : graph->nodes()) {
    const passes::Fp16Verdict verdict = passes::fp16_verdict(*graph, *n);
    const bool fp16 = mode == Mode::kFp16EveryLayer || (mode != Mode::kFp32 && verdict.safe);
    n->precision = fp16 ? Precision::kFp16 : Precision::kFp32;
    fp16_layers += fp16;
    if (!verdict.safe) ++kept_fp32[n->op_type + ": " + verdict.reason];
  }
  if (mode == Mode::kFp16WeightsOnly)
    for (const auto& [why, count] : kept_fp32) std::printf("      FP32 x%d  %s\n", count, why.c_str());
  passes::PassContext ctx;
  std::vector<std::unique_ptr<passes::Pass>> lower;
  lower.push_back(std::make_unique<passes::LowerFp16>());
  EXPECT_TRUE(passes::run_passes(*graph, lower, ctx).is_ok());
  plan::EngineContents contents;
  contents.graph = ir::clone(*graph);
  size_t file_bytes = 0;
  EXPECT_TRUE(plan::write_engine(contents, [&](const void*, size_t n) {
                file_bytes += n;
                return Status::ok();
              }).is_ok());
  const bool numerics = mode == Mode::kFp16SafeLayers || mode == Mode::kFp16EveryLayer;
  const size_t layers = graph->nodes().size();
  auto exec = backends::Executor::create(std::move(graph), {&backends::cpu_backend(), &backends::reference_backend()},
                                         backends::KernelConfig{2, numerics});
  EXPECT_TRUE(exec.is_ok()) << exec.status().to_string();
  backends::ExecutorState state;
  const auto start_time = std::chrono::steady_clock::now();
  const int64_t n = data.images->dim(0);
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += kBatch) {
    const int64_t b = std::min(kBatch, n - start);
    Tensor batch =
        Tensor::view(DType::kFloat32, {b, 1, 28, 28}, data.images, data.images->data<float>() + start * 28 * 28);
    if (numerics) {  // a GPU's FP16 engine takes FP16 images
      Tensor rounded = Tensor::zeros(DType::kFloat32, batch.shape());
      round_to_fp16(batch.data<float>(), rounded.mutable_data<float>(), static_cast<size_t>(batch.numel()));
      batch = rounded;
    }
    auto out = (*exec)->run({batch}, state);
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    const float* logits = (*out)[0].data<float>();
    for (int64_t i = 0; i < b; ++i) {
      const float* row = logits + i * 10;
      const int64_t pred = std::max_element(row, row + 10) - row;
      correct += pred == data.labels.data<int64_t>()[start + i];
    }
  }
  const double acc = 100.0 * static_cast<double>(correct) / static_cast<double>(n);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  std::printf("    %-22s top-1 %.2f%%  (%d of %zu layers FP16; engine file %zu bytes; %.2f s)\n",
              mode == Mode::kFp32              ? "fp32"
              : mode == Mode::kFp16WeightsOnly ? "fp16 weights (safe)"
              : mode == Mode::kFp16SafeLayers  ? "fp16 numerics (safe)"
                                               : "fp16 numerics (every)",
              acc, fp16_layers, layers, file_bytes, seconds);
  return acc;
}

class Fp16Fashion : public ::testing::TestWithParam<const char*> {};

TEST_P(Fp16Fashion, Top1WithinATenthOfAPointOfFp32) {
  const char* dir = std::getenv("FULCRUM_FASHION_DATA");
  if (dir == nullptr) GTEST_SKIP() << "set FULCRUM_FASHION_DATA to the output of models/fashion/data.py";
  const std::filesystem::path models = std::filesystem::path(__FILE__).parent_path() / "../../models/fashion";
  auto images = load_npy(std::string(dir) + "/test_images.npy");
  auto labels = load_npy(std::string(dir) + "/test_labels.npy");
  ASSERT_TRUE(images.is_ok() && labels.is_ok());
  ASSERT_EQ(labels->dtype(), DType::kInt64);
  Dataset data{std::make_shared<Tensor>(std::move(images).value()), std::move(labels).value()};
  auto imported = frontend::onnx::import_model_file((models / GetParam()).string(), ParserOptions{});
  ASSERT_TRUE(imported.is_ok()) << imported.status().to_string();

  std::printf("  %s, %lld test images:\n", GetParam(), static_cast<long long>(data.images->dim(0)));
  const double fp32 = top1(**imported, data, Mode::kFp32);
  for (Mode mode : {Mode::kFp16WeightsOnly, Mode::kFp16SafeLayers, Mode::kFp16EveryLayer})
    EXPECT_LE(std::abs(top1(**imported, data, mode) - fp32), 0.1);
}

INSTANTIATE_TEST_SUITE_P(Models, Fp16Fashion, ::testing::Values("cnn.onnx", "vit.onnx"));

}  // namespace
}  // namespace fulcrum
