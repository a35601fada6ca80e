// Calibration data: the batches a calibrator runs the model on, from what users have on disk.
//
//   a folder of images   JPEG/PNG/BMP (stb_image), preprocessed as the model expects
//                        (ImagePreprocessing), stacked NCHW, for a single-input model
//   a .npy file          one array, cut along its leading axis, for a single-input model
//   a folder of .npy     the same, file after file (sorted by name)
//   a .npz archive       one array per model input, named after it (or a single array for a
//                        single-input model); stored or compressed (np.savez[_compressed])
//
// Everything streams: a batch is read when asked for, so memory holds one batch whatever the
// size of the data. Errors name the file (and the array, row or input).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum::quant {

// What the model takes: name, dtype, shape with -1 for a dimension of any size.
struct ModelInput {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
};

struct ImagePreprocessing {
  enum class Preset {
    kUnit,      // resize to the input size, x / 255
    kImageNet,  // resize the shorter side to 256/224 of the crop, center-crop, x / 255, mean/std
  };
  Preset preset = Preset::kUnit;
  int channels = 0;  // 1 (grayscale) or 3 (RGB); 0: the model input's, else 3
  int height = 0;    // 0: the model input's; else 224 for imagenet, the images' own for unit
  int width = 0;

  // "unit" or "imagenet".
  static Result<ImagePreprocessing> from_preset(std::string_view name);
  // "imagenet 224x224 rgb" (after resolve_image_layout): part of the calibration record.
  std::string description() const;
};

struct CalibrationDataOptions {
  int64_t batch_size = 8;
  int64_t max_samples = 0;  // 0: all
  ImagePreprocessing image;
};

class CalibrationData {
 public:
  virtual ~CalibrationData() = default;
  // The next batch: one tensor per model input, in the order of the inputs given to
  // open_calibration_data, each with up to batch_size rows. Empty once the data is exhausted.
  virtual Result<std::vector<NamedTensor>> next() = 0;
  // Where the samples come from ("calib/ (500 images)"), for logs and the calibration record.
  virtual std::string description() const = 0;
  // The preprocessing applied ("none" for arrays), for the calibration record's fingerprint.
  virtual std::string preprocessing() const = 0;
  // The samples all batches hold together (max_samples applied), for progress.
  virtual int64_t sample_count() const = 0;
};

// Opens `path` (a folder, .npy or .npz) for a model with `inputs`. Checks what can be checked
// before the first batch: an empty folder, a mixture of images and arrays, arrays whose dtype or
// trailing shape does not fit the input, .npz arrays that name no input or miss one.
Result<std::unique_ptr<CalibrationData>> open_calibration_data(const std::string& path,
                                                               const std::vector<ModelInput>& inputs,
                                                               const CalibrationDataOptions& options);

}  // namespace fulcrum::quant
