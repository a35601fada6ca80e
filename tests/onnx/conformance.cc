// Runs the ONNX backend node tests (model.onnx + test_data_set_*/{input,output}_*.pb)
// through Fulcrum and prints one summary line: "N passed, M failed, K skipped".
// A test is skipped when its model uses an op Fulcrum does not support, or a kernel says a
// case is unimplemented (e.g. a dtype); the reasons are listed. Any other mismatch fails.
//
//   onnx_conformance [--data-dir DIR] [--backend reference|cpu] [--filter SUBSTR] [--verbose] [--min-pass N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "backends/reference/util.h"
#include "core/logging.h"
#include "frontend/onnx/importer.h"
#include "fulcrum/fulcrum.h"

namespace fs = std::filesystem;
using namespace fulcrum;

namespace {

// The engine every test builds (--backend picks it).
BuilderConfig g_config{BackendKind::kReference, 0};

enum class Outcome { kPass, kFail, kSkip };

struct TestResult {
  Outcome outcome;
  std::string reason;
};

// Tolerances of ONNX's own backend test runner (onnx/backend/test/runner).
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

std::string compare(const Tensor& actual, const Tensor& expected, const std::string& name) {
  if (actual.dtype() != expected.dtype())
    return fmt::format("output '{}': dtype {} != expected {}", name, dtype_name(actual.dtype()),
                       dtype_name(expected.dtype()));
  if (actual.shape() != expected.shape())
    return fmt::format("output '{}': shape {} != expected {}", name, shape_to_string(actual.shape()),
                       shape_to_string(expected.shape()));
  const bool is_float = expected.dtype() == DType::kFloat32 || expected.dtype() == DType::kFloat64 ||
                        expected.dtype() == DType::kFloat16 || expected.dtype() == DType::kBFloat16;
  if (!is_float) {
    if (std::memcmp(actual.raw(), expected.raw(), expected.nbytes()) != 0) {
      for (int64_t i = 0; i < expected.numel(); ++i) {
        int64_t a = backends::reference::read_as_int64(actual, i), e = backends::reference::read_as_int64(expected, i);
        if (a != e) return fmt::format("output '{}': element {} is {}, expected {}", name, i, a, e);
      }
      return fmt::format("output '{}': bytes differ", name);
    }
    return "";
  }
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double a, e;
    if (expected.dtype() == DType::kFloat16 || expected.dtype() == DType::kBFloat16) {
      uint16_t ab = actual.data<uint16_t>()[i], eb = expected.data<uint16_t>()[i];
      a = ab;  // compare bit patterns exactly for half types
      e = eb;
    } else {
      a = backends::reference::read_as_double(actual, i);
      e = backends::reference::read_as_double(expected, i);
    }
    if (std::isnan(e) && std::isnan(a)) continue;
    if (std::isinf(e) && a == e) continue;
    if (!(std::fabs(a - e) <= kAtol + kRtol * std::fabs(e)))
      return fmt::format("output '{}': element {} is {}, expected {}", name, i, a, e);
  }
  return "";
}

// ONNX 1.12's test data stores bfloat16 tensors as uint16 (numpy has no bfloat16): the
// bits are the bfloat16 values, so read them as the dtype the model declares.
Tensor as_declared(Tensor t, DType declared) {
  if (declared == DType::kBFloat16 && t.dtype() == DType::kUInt16) {
    Tensor out = Tensor::zeros(DType::kBFloat16, t.shape());
    std::memcpy(out.mutable_raw(), t.raw(), t.nbytes());
    return out;
  }
  return t;
}

// Tests whose data contradicts their own model in ONNX 1.12; Fulcrum rightly refuses an
// input whose shape does not fit the model, so these are skipped with the reason shown.
const std::map<std::string, std::string> kBrokenTestData = {
    {"test_castlike_BFLOAT16_to_FLOAT", "ONNX 1.12 test data: input 'like' is [1], the model declares [3, 4]"},
    {"test_castlike_BFLOAT16_to_FLOAT_expanded", "ONNX 1.12 test data: input 'like' is [1], the model declares [3, 4]"},
    {"test_castlike_FLOAT_to_BFLOAT16", "ONNX 1.12 test data: input 'like' is [1], the model declares [3, 4]"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", "ONNX 1.12 test data: input 'like' is [1], the model declares [3, 4]"},
};

TestResult run_test(const fs::path& dir) {
  if (auto broken = kBrokenTestData.find(dir.filename().string()); broken != kBrokenTestData.end())
    return {Outcome::kSkip, broken->second};
  auto network = Network::from_onnx_file((dir / "model.onnx").string());
  if (!network.is_ok()) {
    auto code = network.status().code();
    return {code == StatusCode::kUnimplemented ? Outcome::kSkip : Outcome::kFail, network.status().message()};
  }
  auto unsupported = (*network)->unsupported_ops();
  if (!unsupported.empty()) {
    std::vector<std::string> ops;
    for (const auto& [op, nodes] : unsupported) ops.push_back(op);
    return {Outcome::kSkip, fmt::format("unsupported: {}", fmt::join(ops, ", "))};
  }
  auto engine = Builder().build(**network, g_config);
  if (!engine.is_ok()) return {Outcome::kFail, engine.status().to_string()};
  auto context = (*engine)->create_execution_context();
  auto inputs = (*engine)->inputs();
  auto outputs = (*engine)->outputs();

  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  for (const fs::path& set : sets) {
    std::vector<NamedTensor> given;
    for (size_t i = 0; i < inputs.size(); ++i) {
      fs::path p = set / fmt::format("input_{}.pb", i);
      if (!fs::exists(p)) break;
      auto t = frontend::onnx::load_tensor_proto_file(p.string());
      if (!t.is_ok()) return {Outcome::kSkip, "input is not a tensor: " + t.status().message()};
      given.push_back({inputs[i].name, as_declared(std::move(t).value(), inputs[i].dtype)});
    }
    auto result = context->run(given);
    if (!result.is_ok()) {
      auto code = result.status().code();
      return {code == StatusCode::kUnimplemented ? Outcome::kSkip : Outcome::kFail, result.status().message()};
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      fs::path p = set / fmt::format("output_{}.pb", i);
      if (!fs::exists(p)) continue;
      auto expected = frontend::onnx::load_tensor_proto_file(p.string());
      if (!expected.is_ok()) return {Outcome::kSkip, "output is not a tensor: " + expected.status().message()};
      std::string diff = compare((*result)[i].tensor, as_declared(*expected, outputs[i].dtype), outputs[i].name);
      if (!diff.empty()) return {Outcome::kFail, set.filename().string() + ": " + diff};
    }
  }
  return {Outcome::kPass, ""};
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "/usr/share/libonnx-testdata/data/node";
  std::string filter;
  bool verbose = false;
  int min_pass = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data-dir" && i + 1 < argc)
      data_dir = argv[++i];
    else if (a == "--backend" && i + 1 < argc)
      g_config.backend = std::string(argv[++i]) == "cpu" ? BackendKind::kCpu : BackendKind::kReference;
    else if (a == "--filter" && i + 1 < argc)
      filter = argv[++i];
    else if (a == "--min-pass" && i + 1 < argc)
      min_pass = std::atoi(argv[++i]);
    else if (a == "--verbose")
      verbose = true;
    else {
      std::fprintf(
          stderr, "usage: %s [--data-dir DIR] [--backend reference|cpu] [--filter SUBSTR] [--verbose] [--min-pass N]\n",
          argv[0]);
      return 2;
    }
  }
  if (!fs::is_directory(data_dir)) {
    std::fprintf(stderr, "%s: no such directory (install Debian's libonnx-testdata)\n", data_dir.c_str());
    return 2;
  }
  set_log_level(LogLevel::kError);  // shape-inference warnings of odd test models are noise here
  std::vector<fs::path> tests;
  for (const auto& e : fs::directory_iterator(data_dir))
    if (e.is_directory() && e.path().filename().string().find(filter) != std::string::npos) tests.push_back(e.path());
  std::sort(tests.begin(), tests.end());

  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skip_reasons;
  std::vector<std::string> failures;
  for (const fs::path& t : tests) {
    TestResult r = run_test(t);
    std::string name = t.filename().string();
    switch (r.outcome) {
      case Outcome::kPass: ++passed; break;
      case Outcome::kFail:
        ++failed;
        failures.push_back(name + ": " + r.reason);
        break;
      case Outcome::kSkip: {
        ++skipped;
        std::string reason = r.reason.substr(0, r.reason.find('\n'));
        // Group by op list, not by the node-specific part of a kernel message.
        if (reason.rfind("unsupported: ", 0) != 0)
          reason = reason.substr(reason.find(": ") == std::string::npos ? 0 : reason.find(": ") + 2);
        ++skip_reasons[reason];
        break;
      }
    }
    if (verbose)
      std::printf("%-60s %s %s\n", name.c_str(),
                  r.outcome == Outcome::kPass   ? "PASS"
                  : r.outcome == Outcome::kFail ? "FAIL"
                                                : "SKIP",
                  r.reason.c_str());
  }
  std::printf("\nSkipped (reason: tests):\n");
  for (const auto& [reason, count] : skip_reasons) std::printf("  %4d  %s\n", count, reason.c_str());
  if (!failures.empty()) {
    std::printf("\nFailed:\n");
    for (const auto& f : failures) std::printf("  %s\n", f.c_str());
  }
  std::printf("\n%s\n", data_dir.c_str());
  std::printf("conformance: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  if (failed > 0) return 1;
  if (passed < min_pass) {
    std::printf("fewer than the required %d tests pass\n", min_pass);
    return 1;
  }
  return 0;
}
