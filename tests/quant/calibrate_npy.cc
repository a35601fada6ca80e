// quant_calibrate_npy: feeds .npy batches (float32, any shape) to one calibrator as the batches
// of one tensor and prints what it computed, for the numpy cross-check in
// test_entropy_numpy.py:
//
//   quant_calibrate_npy <calibrator spec> <batch.npy>...
//
// prints `amax <value>` (9 significant digits: a float32 exactly), then `range <R>` and
// `counts <c0> <c1> ...` of the 2048-bin |x| histogram (histogram calibrators only).
// Errors go to stderr with exit status 1.
#include <cstdio>
#include <string>

#include "fulcrum/npy.h"
#include "quant/calibrator.h"

int main(int argc, char** argv) {
  using namespace fulcrum;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <calibrator> <batch.npy>...\n", argv[0]);
    return 2;
  }
  auto calibrator = quant::make_calibrator(argv[1]);
  if (!calibrator.is_ok()) {
    std::fprintf(stderr, "%s\n", calibrator.status().to_string().c_str());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    Result<Tensor> batch = load_npy(argv[i]);
    Status status = batch.is_ok() ? (*calibrator)->observe("t", *batch) : batch.status();
    if (!status.is_ok()) {
      std::fprintf(stderr, "%s\n", status.to_string().c_str());
      return 1;
    }
  }
  Result<float> amax = (*calibrator)->amax("t");
  if (!amax.is_ok()) {
    std::fprintf(stderr, "%s\n", amax.status().to_string().c_str());
    return 1;
  }
  std::printf("amax %.9g\n", static_cast<double>(*amax));
  if (const auto& histogram = (*calibrator)->stats("t")->histogram) {
    std::printf("range %.17g\ncounts", histogram->range());
    for (uint64_t c : histogram->counts()) std::printf(" %llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  return 0;
}
