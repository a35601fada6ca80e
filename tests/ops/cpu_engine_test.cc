// BuilderConfig{kCpu}: a whole network (the bundled Fashion-MNIST CNN: Conv, MaxPool, Gemm
// on the CPU backend, Relu and Flatten on the reference) against the reference engine.
#include <filesystem>

#include "cpu_test_util.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::testing {
namespace {

const std::string kExamples = (std::filesystem::path(__FILE__).parent_path() / "../../examples").string();

Result<std::vector<NamedTensor>> run_engine(const Network& network, BackendKind kind, int threads,
                                            const std::vector<NamedTensor>& inputs) {
  FULCRUM_ASSIGN_OR_RETURN(auto engine, Builder().build(network, BuilderConfig{kind, threads}));
  return engine->create_execution_context()->run(inputs);
}

TEST(CpuEngine, MatchesReferenceEngine) {
  auto network = Network::from_onnx_file(kExamples + "/fashion_cnn.onnx");
  ASSERT_TRUE(network.is_ok()) << network.status().to_string();
  auto images = load_npy(kExamples + "/fashion_images.npy");
  ASSERT_TRUE(images.is_ok()) << images.status().to_string();
  const std::vector<NamedTensor> inputs = {{"image", *images}};
  auto expected = run_engine(**network, BackendKind::kReference, 0, inputs);
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  for (int threads : {0, 1, 2}) {
    SCOPED_TRACE(threads);
    auto actual = run_engine(**network, BackendKind::kCpu, threads, inputs);
    ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
    ASSERT_EQ(actual->size(), expected->size());
    ASSERT_EQ((*actual)[0].tensor.shape(), (*expected)[0].tensor.shape());
    EXPECT_LE(max_relative_error((*actual)[0].tensor, (*expected)[0].tensor), kCpuTolerance);
  }
}

TEST(CpuEngine, RejectsNegativeThreads) {
  auto network = Network::from_onnx_file(kExamples + "/fashion_cnn.onnx");
  ASSERT_TRUE(network.is_ok()) << network.status().to_string();
  EXPECT_FALSE(Builder().build(**network, BuilderConfig{BackendKind::kCpu, -1}).is_ok());
}

}  // namespace
}  // namespace fulcrum::testing
