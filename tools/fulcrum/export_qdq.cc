// fulcrum export-qdq: writes a model's INT8 calibration as a standard ONNX QDQ model
// (QuantizeLinear/DequantizeLinear), the form ONNX Runtime's quantizer writes and runs fast.
//
// The library function lives in src/quant (quant/qdq_export.h) and its signature uses only
// public types; it is not yet declared in include/fulcrum, so this command reads the internal
// header (tools/fulcrum/CMakeLists.txt gives it the src/ include path).
#include <cstdio>
#include <sstream>
#include <string>

#include "commands.h"
#include "quant/qdq_export.h"

namespace fulcrum::cli {
namespace {

struct ExportQdqOptions {
  std::string model, cache, output;
  bool per_tensor = false;
  bool uint8 = false;
  std::vector<std::string> op_types;
  bool all_ops = false;
};

std::string first_names(const std::vector<std::string>& names, size_t n) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < n; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > n) s += ", ...";
  return s;
}

int export_qdq(const ExportQdqOptions& opt) {
  quant::QdqExportOptions options;
  options.per_channel = !opt.per_tensor;
  options.uint8_activations = opt.uint8;
  if (!opt.op_types.empty()) options.op_types = {opt.op_types.begin(), opt.op_types.end()};
  options.engine_layers_only = !opt.all_ops && opt.op_types.empty();
  auto summary = quant::export_qdq(opt.model, opt.cache, options, opt.output);
  if (!summary.is_ok()) return fail(summary.status().message());
  for (const auto& name : summary->unknown_entries)
    std::fprintf(stderr, "warning: %s: entry '%s' names no tensor of %s; ignored\n", opt.cache.c_str(), name.c_str(),
                 opt.model.c_str());
  std::printf(
      "wrote %s: %zu activations quantized (QuantizeLinear/DequantizeLinear, %s), "
      "%zu int8 weights (%s), %zu int32 biases\n",
      opt.output.c_str(), summary->activations, opt.uint8 ? "uint8 zero point 128" : "int8 zero point 0",
      summary->weights, opt.per_tensor ? "per tensor" : "per output channel", summary->biases);
  if (summary->opset_after != summary->opset_before)
    std::printf("  converted from opset %lld to %lld (per-channel DequantizeLinear needs 13)\n",
                static_cast<long long>(summary->opset_before), static_cast<long long>(summary->opset_after));
  if (!summary->uncalibrated.empty())
    std::printf("  %zu float activations of quantizable ops have no scale in %s and stay float: %s\n",
                summary->uncalibrated.size(), opt.cache.c_str(), first_names(summary->uncalibrated, 5).c_str());
  return 0;
}

}  // namespace

Command add_export_qdq_command(CLI::App& app) {
  auto opt = std::make_shared<ExportQdqOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export-qdq", "Write an ONNX model quantized with a calibration cache as a QDQ model (runs in ONNX Runtime)");
  cmd->add_option("model", opt->model, "Float ONNX model")->required();
  cmd->add_option("--calib-cache", opt->cache, "Calibration cache (TensorRT format, from `fulcrum calibrate`)")
      ->required();
  cmd->add_option("-o,--output", opt->output, "QDQ ONNX model to write")->required();
  cmd->add_flag("--per-tensor", opt->per_tensor, "One scale per weight tensor instead of per output channel");
  cmd->add_flag("--uint8-activations", opt->uint8,
                "Activations as uint8 with zero point 128 (the same symmetric grid): what ONNX Runtime fuses "
                "fully on x86; int8 (the default) is what TensorRT reads");
  cmd->add_flag("--all-ops", opt->all_ops,
                "Quantize every op ONNX Runtime's quantizer does (attention MatMuls, Add, Softmax, pools...), the "
                "form ONNX Runtime fuses most; by default only what a Fulcrum INT8 engine quantizes (the activations "
                "of Conv/Gemm/MatMul with constant weights), so ONNX Runtime computes the engine's quantization");
  cmd->add_option("--op-types", opt->op_types,
                  "With --all-ops: the op types whose activations are quantized (default: ONNX Runtime quantizer's)")
      ->delimiter(',');
  return [opt] { return export_qdq(*opt); };
}

}  // namespace fulcrum::cli
