// Builder, Engine and ExecutionContext: the build-time / run-time split of TensorRT.
// A Builder turns a Network and a BuilderConfig into an Engine; an Engine hands out
// ExecutionContexts, each of which runs inference with its own scratch state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fulcrum/network.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum {

enum class BackendKind {
  kReference,  // naive, obviously correct kernels: the oracle every other backend is tested against
  kCpu,        // optimized CPU kernels (oneDNN), the reference backend for the ops they lack
};

struct BuilderConfig {
  BackendKind backend = BackendKind::kCpu;
  int threads = 0;  // threads an inference may use; 0: every core
};

class ExecutionContext;

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::vector<TensorDesc> inputs() const = 0;
  virtual std::vector<TensorDesc> outputs() const = 0;
  virtual std::unique_ptr<ExecutionContext> create_execution_context() const = 0;
};

class ExecutionContext {
 public:
  virtual ~ExecutionContext() = default;
  // Runs the network. Every graph input must be given, by name, with the model's dtype and
  // a shape that fits the model's (fixed dimensions equal, symbolic ones consistent).
  // Returns the graph outputs in the model's order.
  virtual Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs) = 0;
};

class Builder {
 public:
  Result<std::unique_ptr<Engine>> build(const Network& network, const BuilderConfig& config);
};

}  // namespace fulcrum
