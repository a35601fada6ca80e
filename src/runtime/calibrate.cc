// fulcrum::calibrate: the model as imported (no build passes, so every ONNX tensor exists under
// its name) on the cpu backend's kernels, a calibrator observing its float32
// activations batch after batch, then the cache and its record written atomically.
#include "fulcrum/calibrate.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include "core/error.h"
#include "core/logging.h"
#include "fulcrum/engine.h"
#include "fulcrum/network.h"
#include "quant/calib_cache.h"
#include "quant/calib_data.h"
#include "quant/calib_record.h"
#include "quant/calibrator.h"
#include "quant/suitability.h"
#include "runtime/engine_impl.h"

namespace fulcrum {
namespace {

namespace fs = std::filesystem;

Result<std::unique_ptr<quant::CalibrationData>> open_data(const Network& network, const CalibrationOptions& options) {
  std::vector<quant::ModelInput> inputs;
  for (const TensorDesc& d : network.inputs()) inputs.push_back({d.name, d.dtype, d.shape});
  quant::CalibrationDataOptions data_options;
  data_options.batch_size = options.batch_size;
  data_options.max_samples = options.max_samples;
  if (options.preset != "none") {
    FULCRUM_ASSIGN_OR_RETURN(data_options.image, quant::ImagePreprocessing::from_preset(options.preset));
  }
  FULCRUM_ASSIGN_OR_RETURN(auto data, quant::open_calibration_data(options.data, inputs, data_options));
  // Arrays are taken as preprocessed; images need the model's preprocessing named, since a
  // wrong guess would give wrong scales without any error.
  if (options.preset == "none" && data->preprocessing() != "none")
    return invalid_argument("{}: the calibration data are images: give their preprocessing with --preset imagenet|unit",
                            options.data);
  return data;
}

// Values the calibrator skips: ONNX Constant outputs are weights, not activations.
std::set<std::string> constant_values(const Network& network) {
  std::set<std::string> out;
  for (const LayerDesc& layer : network.layers())
    if (layer.op_type == "Constant" && layer.domain.empty()) out.insert(layer.outputs.begin(), layer.outputs.end());
  return out;
}

// Writes the cache and its record each to `<path>.tmp`, then renames both: a failure leaves
// neither new file, and any older pair untouched.
Status write_outputs(const quant::CalibrationCache& cache, const std::string& cache_path,
                     const quant::CalibrationRecord& record, const std::string& record_path) {
  const std::string cache_tmp = cache_path + ".tmp", record_tmp = record_path + ".tmp";
  Status s = cache.save(cache_tmp);
  if (s.is_ok()) s = quant::save_record(record_tmp, record);
  std::error_code ec;
  if (s.is_ok()) {
    fs::rename(record_tmp, record_path, ec);
    if (!ec) fs::rename(cache_tmp, cache_path, ec);
    if (ec) s = io_error("{}: cannot rename the calibration files into place: {}", cache_path, ec.message());
  }
  if (!s.is_ok()) {
    fs::remove(cache_tmp, ec);
    fs::remove(record_tmp, ec);
  }
  return s;
}

}  // namespace

Result<CalibrationSummary> calibrate(const std::string& model_path, const std::string& cache_path,
                                     const CalibrationOptions& options) {
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<quant::Calibrator> calibrator, quant::make_calibrator(options.calibrator));
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<Network> network, Network::from_onnx_file(model_path));
  FULCRUM_ASSIGN_OR_RETURN(std::unique_ptr<quant::CalibrationData> data, open_data(*network, options));

  // The graph as imported, but run by the cpu backend's kernels where it has them (oneDNN
  // convolutions and matmuls): the reference kernels would make calibration the slow step.
  BuilderConfig config;
  config.backend = BackendKind::kCpu;
  config.threads = options.threads;
  auto engine = runtime::create_engine(network->graph(), config);
  if (!engine.is_ok()) return engine.status().with_context(model_path);
  std::unique_ptr<ExecutionContext> context = (*engine)->create_execution_context();
  const std::set<std::string> constants = constant_values(*network);
  // MinMax keeps no histograms, yet its users need the outlier check most: a second, histogram
  // keeping calibrator observes for the suitability checks (16 KiB a tensor, as entropy's).
  std::unique_ptr<quant::Calibrator> histograms;
  if (calibrator->algorithm() == quant::MinMaxCalibrator().algorithm())
    histograms = std::make_unique<quant::PercentileCalibrator>();
  FULCRUM_RETURN_IF_ERROR(context->set_tensor_observer([&](const std::string& name, const Tensor& value) -> Status {
    if (value.dtype() != DType::kFloat32 || value.numel() == 0 || constants.count(name) > 0) return Status::ok();
    FULCRUM_RETURN_IF_ERROR(calibrator->observe(name, value));
    return histograms ? histograms->observe(name, value) : Status::ok();
  }));

  CalibrationSummary summary;
  const int64_t total = data->sample_count();
  CalibrationProgress progress{0, (total + options.batch_size - 1) / options.batch_size, 0, total};
  for (;;) {
    auto batch = data->next();
    if (!batch.is_ok()) return batch.status().with_context("calibration data");
    if (batch->empty()) break;
    const int64_t rows = batch->front().tensor.shape().empty() ? 1 : batch->front().tensor.shape()[0];
    auto outputs = context->run(*batch);
    if (!outputs.is_ok())
      return outputs.status().with_context(fmt::format("{}: calibration batch {}", model_path, progress.batch + 1));
    ++progress.batch;
    progress.samples += rows;
    if (options.progress) options.progress(progress);
  }
  if (progress.batch == 0) return invalid_argument("{}: no calibration samples", options.data);

  FULCRUM_ASSIGN_OR_RETURN(quant::CalibrationCache cache, quant::CalibrationCache::from_calibrator(*calibrator));
  quant::CalibrationRecord record;
  FULCRUM_ASSIGN_OR_RETURN(record.model, quant::fingerprint_file(model_path));
  record.calibrator = calibrator->spec();
  record.preprocessing = data->preprocessing();
  record.data = data->description();
  record.cache = quant::fingerprint_bytes(cache.serialize());
  std::vector<std::string> graph_inputs;
  for (const TensorDesc& d : network->inputs()) graph_inputs.push_back(d.name);
  const quant::ModelRoles roles = quant::model_roles(network->layers(), graph_inputs);
  for (quant::SuitabilityWarning& w : quant::check_suitability(*calibrator, roles, histograms.get(), &cache))
    record.warnings.push_back(std::move(w.message));
  summary.record_path = quant::record_path(cache_path);
  FULCRUM_RETURN_IF_ERROR(write_outputs(cache, cache_path, record, summary.record_path));
  summary.algorithm = cache.algorithm();
  summary.batches = progress.batch;
  summary.samples = progress.samples;
  summary.tensors = cache.entries().size();
  summary.data = data->description();
  summary.cache_path = cache_path;
  for (const std::string& w : record.warnings) log_warning("INT8 suitability: {}", w);
  summary.warnings = std::move(record.warnings);
  return summary;
}

}  // namespace fulcrum
