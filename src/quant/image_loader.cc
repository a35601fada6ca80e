#include "quant/image_loader.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace fulcrum::quant {
namespace {

// torchvision's ImageNet statistics; grayscale uses their channel averages.
constexpr float kMeanRgb[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStdRgb[3] = {0.229f, 0.224f, 0.225f};
constexpr float kMeanGray = 0.449f;
constexpr float kStdGray = 0.226f;
constexpr int kImageNetCrop = 224;
constexpr int kImageNetResize = 256;  // shorter side before a 224 crop

struct Pixels {
  std::vector<unsigned char> data;  // H x W x C, interleaved
  int width = 0, height = 0, channels = 0;
};

Result<Pixels> decode(const std::string& path, int channels) {
  int w = 0, h = 0, file_channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &file_channels, channels);
  if (data == nullptr)
    return invalid_argument("{}: cannot decode image ({})", path, stbi_failure_reason() ? stbi_failure_reason() : "?");
  Pixels p{std::vector<unsigned char>(data, data + static_cast<size_t>(w) * h * channels), w, h, channels};
  stbi_image_free(data);
  return p;
}

Result<Pixels> resize(const Pixels& in, int width, int height, const std::string& path) {
  if (in.width == width && in.height == height) return in;
  Pixels out{std::vector<unsigned char>(static_cast<size_t>(width) * height * in.channels), width, height, in.channels};
  // stb's default filters: Catmull-Rom when enlarging, Mitchell when shrinking (antialiased).
  if (!stbir_resize_uint8(in.data.data(), in.width, in.height, 0, out.data.data(), width, height, 0, in.channels))
    return internal_error("{}: resizing {}x{} to {}x{} failed", path, in.width, in.height, width, height);
  return out;
}

class ImageData final : public CalibrationData {
 public:
  ImageData(std::string folder, std::vector<std::string> files, ModelInput input, ImagePreprocessing pre,
            int64_t batch_size)
      : folder_(std::move(folder)),
        files_(std::move(files)),
        input_(std::move(input)),
        pre_(pre),
        batch_size_(batch_size) {}

  Result<std::vector<NamedTensor>> next() override {
    const int64_t rows = std::min<int64_t>(batch_size_, static_cast<int64_t>(files_.size() - next_));
    std::vector<NamedTensor> batch;
    if (rows <= 0) return batch;
    if (pre_.height == 0) {  // `unit` without a size: the first image sets it
      FULCRUM_ASSIGN_OR_RETURN(Pixels first, decode(files_[next_], pre_.channels));
      pre_.height = first.height;
      pre_.width = first.width;
    }
    Tensor t = Tensor::zeros(DType::kFloat32, {rows, pre_.channels, pre_.height, pre_.width});
    const size_t per_image = static_cast<size_t>(pre_.channels) * pre_.height * pre_.width;
    for (int64_t i = 0; i < rows; ++i) {
      FULCRUM_ASSIGN_OR_RETURN(Tensor image, load_image(files_[next_ + static_cast<size_t>(i)], pre_));
      std::memcpy(t.mutable_data<float>() + static_cast<size_t>(i) * per_image, image.data<float>(),
                  per_image * sizeof(float));
    }
    next_ += static_cast<size_t>(rows);
    batch.push_back({input_.name, std::move(t)});
    return batch;
  }
  std::string description() const override { return fmt::format("{} ({} images)", folder_, files_.size()); }
  std::string preprocessing() const override { return pre_.description(); }
  int64_t sample_count() const override { return static_cast<int64_t>(files_.size()); }

 private:
  std::string folder_;
  std::vector<std::string> files_;
  ModelInput input_;
  ImagePreprocessing pre_;
  int64_t batch_size_;
  size_t next_ = 0;
};

// Fills the preprocessing's unset fields from the model input, and checks they agree.
Result<ImagePreprocessing> resolve(ImagePreprocessing pre, const ModelInput& input, const std::string& folder) {
  const Shape& s = input.shape;
  if (input.dtype != DType::kFloat32)
    return invalid_argument("{}: images feed float32 inputs, but input '{}' takes {}", folder, input.name,
                            dtype_name(input.dtype));
  if (!s.empty() && s.size() != 4)
    return invalid_argument("{}: images feed N x C x H x W inputs, but input '{}' has shape {}", folder, input.name,
                            shape_to_string(s));
  const int64_t model_c = s.empty() ? -1 : s[1], model_h = s.empty() ? -1 : s[2], model_w = s.empty() ? -1 : s[3];
  if (pre.channels == 0) pre.channels = model_c > 0 ? static_cast<int>(model_c) : 3;
  if (pre.channels != 1 && pre.channels != 3)
    return invalid_argument("{}: images have 1 (grayscale) or 3 (RGB) channels, not {}", folder, pre.channels);
  if (model_c > 0 && model_c != pre.channels)
    return invalid_argument("{}: {} image channels, but input '{}' has shape {}", folder, pre.channels, input.name,
                            shape_to_string(s));
  if (pre.height == 0 && model_h > 0) pre.height = static_cast<int>(model_h);
  if (pre.width == 0 && model_w > 0) pre.width = static_cast<int>(model_w);
  if (pre.preset == ImagePreprocessing::Preset::kImageNet) {
    if (pre.height == 0) pre.height = kImageNetCrop;
    if (pre.width == 0) pre.width = kImageNetCrop;
  }
  if ((model_h > 0 && pre.height != model_h) || (model_w > 0 && pre.width != model_w))
    return invalid_argument("{}: images of {}x{}, but input '{}' has shape {}", folder, pre.height, pre.width,
                            input.name, shape_to_string(s));
  if ((pre.height == 0) != (pre.width == 0)) return invalid_argument("{}: give both image height and width", folder);
  return pre;
}

}  // namespace

Result<ImagePreprocessing> ImagePreprocessing::from_preset(std::string_view name) {
  ImagePreprocessing pre;
  if (name == "unit") return pre;
  if (name == "imagenet") {
    pre.preset = Preset::kImageNet;
    return pre;
  }
  return invalid_argument("unknown image preprocessing '{}' (expected imagenet or unit)", name);
}

std::string ImagePreprocessing::description() const {
  return fmt::format("{} {}x{} {} nchw", preset == Preset::kImageNet ? "imagenet" : "unit", height, width,
                     channels == 1 ? "gray" : "rgb");
}

Result<Tensor> load_image(const std::string& path, const ImagePreprocessing& pre) {
  FULCRUM_ASSIGN_OR_RETURN(Pixels pixels, decode(path, pre.channels));
  int top = 0, left = 0;
  if (pre.preset == ImagePreprocessing::Preset::kImageNet) {
    // Shorter side to 256/224 of the crop (256 for 224), the other side in proportion.
    const double shorter = std::round(std::max(pre.height, pre.width) * double{kImageNetResize} / kImageNetCrop);
    const double factor = shorter / std::min(pixels.width, pixels.height);
    const int w = std::max(pre.width, static_cast<int>(std::round(pixels.width * factor)));
    const int h = std::max(pre.height, static_cast<int>(std::round(pixels.height * factor)));
    FULCRUM_ASSIGN_OR_RETURN(pixels, resize(pixels, w, h, path));
    top = static_cast<int>(std::round((h - pre.height) / 2.0));
    left = static_cast<int>(std::round((w - pre.width) / 2.0));
  } else {
    FULCRUM_ASSIGN_OR_RETURN(pixels, resize(pixels, pre.width, pre.height, path));
  }
  const bool imagenet = pre.preset == ImagePreprocessing::Preset::kImageNet;
  Tensor t = Tensor::zeros(DType::kFloat32, {pre.channels, pre.height, pre.width});
  float* out = t.mutable_data<float>();
  for (int c = 0; c < pre.channels; ++c) {
    const float mean = imagenet ? (pre.channels == 3 ? kMeanRgb[c] : kMeanGray) : 0.0f;
    const float inv_std = imagenet ? 1.0f / (pre.channels == 3 ? kStdRgb[c] : kStdGray) : 1.0f;
    for (int y = 0; y < pre.height; ++y)
      for (int x = 0; x < pre.width; ++x) {
        const size_t src = (static_cast<size_t>(y + top) * pixels.width + (x + left)) * pre.channels + c;
        *out++ = (pixels.data[src] / 255.0f - mean) * inv_std;
      }
  }
  return t;
}

Result<std::unique_ptr<CalibrationData>> open_image_folder(const std::string& folder, std::vector<std::string> files,
                                                           const ModelInput& input,
                                                           const CalibrationDataOptions& options) {
  FULCRUM_ASSIGN_OR_RETURN(ImagePreprocessing pre, resolve(options.image, input, folder));
  if (options.max_samples > 0 && files.size() > static_cast<size_t>(options.max_samples))
    files.resize(static_cast<size_t>(options.max_samples));
  return std::unique_ptr<CalibrationData>(new ImageData(folder, std::move(files), input, pre, options.batch_size));
}

}  // namespace fulcrum::quant
