// Writes an INT8 calibration as a standard ONNX QDQ model (QuantizeLinear/DequantizeLinear
// around the float ops), in the form ONNX Runtime's own
//   quantize_static(..., quant_format=QDQ, activation_type=QInt8, weight_type=QInt8, per_channel=True,
//                   extra_options={ActivationSymmetric: True, WeightSymmetric: True})
// produces, so ONNX Runtime's graph optimizer fuses it into QLinearConv / QLinearMatMul / ...:
//
//  - every float activation that is an input or output of an op of `op_types` and has a cache
//    entry gets a QuantizeLinear -> DequantizeLinear pair per reader (int8, zero point 0, scale
//    from the cache; or uint8 with zero point 128, see QdqExportOptions). A graph output keeps its name: its producer
//    writes
//    `<name>_QuantizeLinear_Input` and the DequantizeLinear writes `<name>`;
//  - the constant weights of Conv, ConvTranspose, Gemm and MatMul whose activation input is
//    quantized become int8 initializers plus a DequantizeLinear, symmetric, per output channel
//    (Conv axis 0, ConvTranspose axis 1, Gemm axis 0 with transB else 1, a 2-D MatMul B axis 1),
//    scale = max|w| / 127 per channel (1/127 for an all-zero channel); their 1-D biases become
//    int32 with scale x_scale * w_scale (zero point 0), as ONNX Runtime quantizes them;
//  - activations the cache lacks stay float (the summary lists them); a model older than
//    opset 13 (per-axis DequantizeLinear) is converted to opset 13 with ONNX's version converter.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "fulcrum/status.h"
#include "quant/calib_cache.h"

namespace fulcrum::quant {

// ONNX Runtime's default op types to quantize (its QLinear and QDQ registries, less the
// contrib-only ones).
const std::set<std::string>& default_qdq_op_types();

struct QdqExportOptions {
  std::set<std::string> op_types = default_qdq_op_types();
  bool per_channel = true;  // false: one scale per weight tensor
  // Activations as uint8 with zero point 128 instead of int8 with zero point 0: the same
  // symmetric grid (q_u8 = q_s8 + 128), in the form ONNX Runtime's x86 kernels take directly.
  // With int8, ONNX Runtime 1.30's default session merges the dedicated pairs again (common
  // subexpression elimination) and then leaves every conv whose input has several readers in
  // float; with uint8 it fuses them all. int8 is the portable form (TensorRT reads only int8).
  bool uint8_activations = false;
  // Quantize exactly what a Fulcrum INT8 engine does (the default): the activation input of
  // each Conv, Gemm and MatMul with constant weights, and its output where only such layers
  // read it; op_types is then ignored. ONNX Runtime then computes the engine's quantization
  // (on the Fashion ViT within 0.04 top-1 points; with ONNX Runtime's op list, which also
  // quantizes attention, Softmax and residual Adds, 0.3 points lower). False: every op of
  // op_types, the form ONNX Runtime's own quantizer writes and fuses most.
  bool engine_layers_only = true;
  // How errors and the summary name the cache ("model.calib").
  std::string cache_name = "the calibration cache";
};

struct QdqExportSummary {
  size_t activations = 0;  // tensors given a QuantizeLinear/DequantizeLinear pair
  size_t weights = 0;      // int8 weight initializers
  size_t biases = 0;       // int32 bias initializers
  // Float activations of quantizable ops that the cache has no scale for: left float.
  std::vector<std::string> uncalibrated;
  // Cache entries that name no tensor of the model (each worth a warning).
  std::vector<std::string> unknown_entries;
  int64_t opset_before = 0, opset_after = 0;  // of the default domain
};

// Reads the float ONNX model at `model_path` (external data included), inserts the
// quantization described above and writes a self-contained model (external data inlined) to
// `out_path`, through a temporary file and a rename: a failure leaves no file behind. Fails,
// naming the file, on a model that already holds QuantizeLinear/DequantizeLinear, or when more
// than half of the cache's entries name no tensor of the model (the cache of another model).
Result<QdqExportSummary> export_qdq(const std::string& model_path, const CalibrationCache& cache,
                                    const QdqExportOptions& options, const std::string& out_path);

// The same with the cache read from `cache_path` (options.cache_name is set to it).
Result<QdqExportSummary> export_qdq(const std::string& model_path, const std::string& cache_path,
                                    QdqExportOptions options, const std::string& out_path);

// Symmetric int8 quantization of a float weight of `shape`, one scale per slice along `axis`
// (axis < 0: one scale in all): scale = max|w| / 127 (1/127 when the slice is all zero),
// q = round_half_even(w / scale) in [-127, 127]. Fails on a non-finite weight.
struct SymmetricQuantized {
  std::vector<int8_t> values;
  std::vector<float> scales;
};
Result<SymmetricQuantized> quantize_symmetric(const float* w, const std::vector<int64_t>& shape, int64_t axis,
                                              const std::string& name);

}  // namespace fulcrum::quant
