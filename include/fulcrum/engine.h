// Builder, Engine and ExecutionContext: the build-time / run-time split of TensorRT.
// A Builder turns a Network and a BuilderConfig into an Engine; an Engine hands out
// ExecutionContexts, each of which runs inference with its own scratch state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/calibrate.h"
#include "fulcrum/network.h"
#include "fulcrum/precision.h"
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

  // Precision permissions (TensorRT's kFP16 / kINT8; both: --best). FP32 is always allowed.
  // A layer runs in a lower precision only where a kernel supports it; Engine::layers()
  // says, per layer, what it runs in and why.
  bool fp16 = false;
  bool int8 = false;
  // FP16 layers also round their outputs to FP16 (weights are FP16 either way), so a CPU
  // engine predicts a GPU's FP16 accuracy. No speed on a CPU without FP16 arithmetic.
  bool fp16_numerics = false;
  // INT8 only where measured faster: the build times each INT8-permitted layer in FP32 and
  // INT8 (in context, on generated inputs) and keeps FP32 where INT8 is not faster. Off: every
  // layer that can be INT8 is (deterministic builds, tests).
  bool int8_timing = true;
  std::vector<LayerPrecision> layer_precisions;  // requests by node-name glob; later win
  PrecisionConstraints precision_constraints = PrecisionConstraints::kNone;

  // INT8 scales (implicit quantization): a TensorRT-format calibration cache. When the file
  // does not exist and `calibration.data` is set, the build calibrates and writes it; a cache
  // that exists is used as is (calibration is skipped). A model with Q/DQ nodes needs neither.
  std::string calibration_cache;
  CalibrationOptions calibration;
  // Dynamic ranges set by hand (TensorRT's ITensor::setDynamicRange): tensor name -> amax.
  // They win over the cache's entries.
  std::map<std::string, float> dynamic_ranges;
};

class ExecutionContext;

// The weights an engine holds (fulcrum inspect). Kernels that pack a weight into their own
// layout keep only the packed copy, so held + packed is what the engine costs.
struct EngineMemoryInfo {
  size_t model_weight_bytes = 0;   // the (optimized) model's constants, as stored
  size_t held_weight_bytes = 0;    // constants the engine keeps as they are (kernels read them)
  size_t packed_weight_bytes = 0;  // the kernels' packed copies
};

// One layer of a built engine, in execution order: fused layers keep the ONNX name of the
// node they are anchored on, so a user finds them by the names in their model.
struct EngineLayer {
  std::string name;
  std::string op_type;
  std::string domain;   // "fulcrum" for Fulcrum's fused and layout ops
  std::string backend;  // which backend's kernel runs it ("cpu", "reference")
  Precision precision = Precision::kFp32;
  std::string precision_reason;  // why the builder chose it ("int8: calibrated, oneDNN VNNI kernel")
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::vector<TensorDesc> inputs() const = 0;
  virtual std::vector<TensorDesc> outputs() const = 0;
  virtual std::unique_ptr<ExecutionContext> create_execution_context() const = 0;
  virtual EngineMemoryInfo memory_info() const { return {}; }
  // The layers the engine runs, after the build passes, with the backend of each.
  virtual std::vector<EngineLayer> layers() const { return {}; }
};

class ExecutionContext {
 public:
  virtual ~ExecutionContext() = default;
  // Runs the network. Every graph input must be given, by name, with the model's dtype and
  // a shape that fits the model's (fixed dimensions equal, symbolic ones consistent).
  // Returns the graph outputs in the model's order.
  virtual Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs) = 0;
  // Bytes of this context's activation arena: the peak activation memory of the largest
  // input shapes run so far (0 before the first run). Runs with input shapes seen before
  // take every intermediate tensor from it.
  virtual size_t activation_arena_bytes() const { return 0; }

  // Sees every value of later runs: each graph input, then each layer output as the layer
  // produces it, by tensor name (INT8 calibration observes the activations this way). The
  // tensor may be freed or its memory reused once the observer returns (observed runs use the
  // activation arena too), so the observer consumes or copies it; a non-OK status ends the run
  // with it. An empty function removes the observer. Observe a reference-backend engine to see
  // the model's own tensors (the cpu backend's fused layers skip the values they fuse).
  using TensorObserver = std::function<Status(const std::string& name, const Tensor& value)>;
  virtual Status set_tensor_observer(TensorObserver observer) {
    (void)observer;
    return Status(StatusCode::kUnimplemented, "this execution context cannot observe tensors");
  }
};

struct SerializeOptions;

class Builder {
 public:
  Result<std::unique_ptr<Engine>> build(const Network& network, const BuilderConfig& config);
  // The same, consuming the network (as TensorRT users destroy it after the build): its
  // weights go as soon as the engine's kernels have packed them, so building holds about one
  // copy of the weights instead of the network's plus the engine's.
  Result<std::unique_ptr<Engine>> build(std::unique_ptr<Network> network, const BuilderConfig& config);

  // Builds and serializes the engine (an engine file's bytes) instead of creating it: the
  // expensive graph optimization happens once, and Runtime loads the result many times.
  Result<std::vector<uint8_t>> build_serialized(const Network& network, const BuilderConfig& config,
                                                const SerializeOptions& options);
  // The same, written to `path` (replaced only once the whole file is written).
  Status build_serialized(const Network& network, const BuilderConfig& config, const SerializeOptions& options,
                          const std::string& path);
};

// ---- Engine files (.fulcrum): build once, load many times (docs/engine_file.md) ----

struct SerializeOptions {
  // The model file the network was parsed from: its name, size and FNV-1a 64 fingerprint
  // are recorded so an engine file says where it came from. Empty: recorded as unknown.
  std::string source_model;
};

// What an engine file holds, as `fulcrum inspect` shows it.
struct EngineFileInfo {
  uint32_t format_version = 0;
  std::string fulcrum_version;  // the Fulcrum that built it
  std::string source_name;      // the source model's file name ("" if not recorded)
  uint64_t source_size = 0;
  std::string source_fingerprint;  // "fnv1a64:<16 hex digits>", "" if not recorded
  int64_t created_unix = 0;        // when it was built (seconds since 1970, UTC)
  double build_ms = 0;             // how long the optimization took
  BuilderConfig config;            // what it was built for
  uint64_t file_bytes = 0;
  size_t weight_bytes = 0;
  std::vector<TensorDesc> inputs, outputs;
  std::vector<LayerDesc> layers;  // the optimized layers, in execution order
};

struct RuntimeOptions {
  int threads = -1;  // threads an inference may use; -1: the engine's own setting, 0: every core
};

// Loads engine files. Errors name the file; a file from another engine-file format version
// or another Fulcrum version, a truncated or corrupt one, is refused with a clear error.
class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {}) : options_(options) {}
  // Maps the file: the engine's weights are views of the mapping, not copies.
  Result<std::unique_ptr<Engine>> load_engine(const std::string& path) const;
  // An engine from bytes made by Builder::build_serialized (copied once, to aligned memory).
  Result<std::unique_ptr<Engine>> deserialize(const std::vector<uint8_t>& bytes) const;

  // Whether the file starts with the engine-file magic (what the CLI checks to tell an engine
  // from an ONNX model).
  static bool is_engine_file(const std::string& path);
  // Reads and validates an engine file without creating its kernels.
  static Result<EngineFileInfo> inspect_engine_file(const std::string& path);

 private:
  RuntimeOptions options_;
};

}  // namespace fulcrum
