// Image folders as calibration data (part of calib_data): decoding with stb_image, then the
// preprocessing users write in their calibrator's get_batch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "quant/calib_data.h"

namespace fulcrum::quant {

// Decodes one image and preprocesses it to a C x H x W float32 tensor. `pre` must be resolved:
// channels 1 or 3, height and width > 0.
Result<Tensor> load_image(const std::string& path, const ImagePreprocessing& pre);

// A CalibrationData over image files (sorted), stacked N x C x H x W for `input`.
Result<std::unique_ptr<CalibrationData>> open_image_folder(const std::string& folder, std::vector<std::string> files,
                                                           const ModelInput& input,
                                                           const CalibrationDataOptions& options);

}  // namespace fulcrum::quant
