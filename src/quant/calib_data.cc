#include "quant/calib_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "quant/array_stream.h"
#include "quant/image_loader.h"

namespace fulcrum::quant {
namespace {

namespace fs = std::filesystem;

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_image(const fs::path& p) {
  const std::string ext = lower_extension(p);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Checks that an array can feed `input`: same dtype, same rank, same size on every fixed
// dimension but the batch axis.
Status check_fits(const NpyStream& s, const ModelInput& input) {
  if (s.dtype() != input.dtype)
    return invalid_argument("{}: dtype {}, but input '{}' takes {}", s.name(), dtype_name(s.dtype()), input.name,
                            dtype_name(input.dtype));
  const Shape& shape = s.shape();
  bool fits = input.shape.empty() || shape.size() == input.shape.size();
  for (size_t d = 1; fits && d < input.shape.size(); ++d) fits = input.shape[d] < 0 || input.shape[d] == shape[d];
  if (!fits)
    return invalid_argument("{}: shape {} does not fit input '{}' of shape {} (the leading axis is the batch)",
                            s.name(), shape_to_string(shape), input.name, shape_to_string(input.shape));
  return Status::ok();
}

// NaN or infinity in calibration data would become a silent bad scale: refuse it here, where
// the file and row are known.
Status check_finite(const Tensor& t, int64_t offset_row, int64_t rows, const std::string& name, int64_t first_row) {
  if (t.dtype() != DType::kFloat32) return Status::ok();
  const int64_t per_row = rows == 0 ? 0 : t.numel() / t.dim(0);
  const float* p = t.data<float>() + offset_row * per_row;
  for (int64_t i = 0; i < rows * per_row; ++i)
    if (!std::isfinite(p[i]))
      return invalid_argument("{}: {} in row {}", name, std::isnan(p[i]) ? "NaN" : "infinity", first_row + i / per_row);
  return Status::ok();
}

// One model input fed by a sequence of arrays (the files of a folder, or one .npz member).
struct Feed {
  ModelInput input;
  size_t count = 0;  // arrays
  std::function<Result<std::unique_ptr<NpyStream>>(size_t)> open;
  std::unique_ptr<NpyStream> current;
  size_t next_array = 0;
  Shape row_shape;  // trailing shape, fixed by the first array
};

Feed make_feed(const ModelInput& input, size_t count, std::function<Result<std::unique_ptr<NpyStream>>(size_t)> open) {
  Feed feed;
  feed.input = input;
  feed.count = count;
  feed.open = std::move(open);
  return feed;
}

class ArrayData final : public CalibrationData {
 public:
  ArrayData(std::vector<Feed> feeds, int64_t samples, int64_t batch_size, std::string description)
      : feeds_(std::move(feeds)),
        samples_(samples),
        left_(samples),
        batch_size_(batch_size),
        description_(std::move(description)) {}

  Result<std::vector<NamedTensor>> next() override {
    const int64_t rows = std::min(left_, batch_size_);
    std::vector<NamedTensor> batch;
    if (rows <= 0) return batch;
    for (Feed& feed : feeds_) {
      Shape shape = feed.row_shape;
      shape.insert(shape.begin(), rows);
      Tensor t = Tensor::zeros(feed.input.dtype, shape);
      FULCRUM_RETURN_IF_ERROR(fill(feed, t, rows));
      batch.push_back({feed.input.name, std::move(t)});
    }
    left_ -= rows;
    return batch;
  }
  std::string description() const override { return description_; }
  int64_t sample_count() const override { return samples_; }
  std::string preprocessing() const override { return "none"; }

 private:
  Status fill(Feed& feed, Tensor& t, int64_t rows) {
    auto* dst = static_cast<char*>(t.mutable_raw());
    for (int64_t done = 0; done < rows;) {
      while (!feed.current || feed.current->rows_left() == 0) {
        if (feed.next_array == feed.count) return internal_error("input '{}': arrays ran out", feed.input.name);
        FULCRUM_ASSIGN_OR_RETURN(feed.current, feed.open(feed.next_array++));
        FULCRUM_RETURN_IF_ERROR(check_fits(*feed.current, feed.input));
        const Shape rest(feed.current->shape().begin() + 1, feed.current->shape().end());
        if (rest != feed.row_shape)
          return invalid_argument("{}: rows of shape {}, but earlier arrays for input '{}' have {}",
                                  feed.current->name(), shape_to_string(rest), feed.input.name,
                                  shape_to_string(feed.row_shape));
      }
      const int64_t take = std::min(rows - done, feed.current->rows_left());
      const int64_t first_row = feed.current->rows() - feed.current->rows_left();
      FULCRUM_RETURN_IF_ERROR(feed.current->read_rows(take, dst + done * feed.current->row_bytes()));
      FULCRUM_RETURN_IF_ERROR(check_finite(t, done, take, feed.current->name(), first_row));
      done += take;
    }
    return Status::ok();
  }

  std::vector<Feed> feeds_;
  int64_t samples_;
  int64_t left_;
  int64_t batch_size_;
  std::string description_;
};

// Reads every array's header once: its shape and dtype are checked before any batch, and the
// rows are counted.
Result<int64_t> prepare_feed(Feed& feed) {
  int64_t rows = 0;
  for (size_t i = 0; i < feed.count; ++i) {
    FULCRUM_ASSIGN_OR_RETURN(auto stream, feed.open(i));
    FULCRUM_RETURN_IF_ERROR(check_fits(*stream, feed.input));
    const Shape rest(stream->shape().begin() + 1, stream->shape().end());
    if (i == 0) feed.row_shape = rest;
    if (rest != feed.row_shape)
      return invalid_argument("{}: rows of shape {}, but the first array for input '{}' has {}", stream->name(),
                              shape_to_string(rest), feed.input.name, shape_to_string(feed.row_shape));
    rows += stream->rows();
  }
  return rows;
}

Result<std::vector<Feed>> npz_feeds(const std::string& path, const std::vector<ModelInput>& inputs) {
  FULCRUM_ASSIGN_OR_RETURN(std::vector<NpzMember> members, list_npz(path));
  if (members.empty()) return invalid_argument("{}: the archive holds no .npy arrays", path);
  std::vector<Feed> feeds;
  for (const ModelInput& input : inputs) {
    auto it = std::find_if(members.begin(), members.end(), [&](const NpzMember& m) { return m.name == input.name; });
    if (it == members.end() && inputs.size() == 1 && members.size() == 1) it = members.begin();
    if (it == members.end()) {
      std::vector<std::string> names;
      for (const NpzMember& m : members) names.push_back(m.name);
      return invalid_argument("{}: no array named '{}' for the model input of that name (arrays: {})", path, input.name,
                              fmt::join(names, ", "));
    }
    NpzMember member = *it;
    feeds.push_back(make_feed(input, 1, [path, member](size_t) { return open_npz_member(path, member); }));
  }
  for (const NpzMember& m : members) {
    const bool used = std::any_of(feeds.begin(), feeds.end(), [&](const Feed& f) { return f.input.name == m.name; });
    if (!used && inputs.size() > 1) return invalid_argument("{}: array '{}' names no model input", path, m.name);
  }
  return feeds;
}

Result<std::vector<std::string>> list_folder(const std::string& path, bool& images) {
  std::vector<std::string> arrays, image_files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (!entry.is_regular_file()) continue;
    if (lower_extension(entry.path()) == ".npy") arrays.push_back(entry.path().string());
    if (is_image(entry.path())) image_files.push_back(entry.path().string());
  }
  if (ec) return io_error("{}: cannot list the folder: {}", path, ec.message());
  if (arrays.empty() && image_files.empty())
    return invalid_argument("{}: empty calibration folder (no .npy, .jpg, .jpeg, .png or .bmp files)", path);
  if (!arrays.empty() && !image_files.empty())
    return invalid_argument("{}: holds both .npy arrays and images; keep one kind per folder", path);
  images = !image_files.empty();
  std::vector<std::string>& files = images ? image_files : arrays;
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::unique_ptr<CalibrationData>> open_arrays(const std::string& path, std::vector<Feed> feeds,
                                                     const CalibrationDataOptions& options) {
  int64_t samples = -1;
  for (Feed& feed : feeds) {
    FULCRUM_ASSIGN_OR_RETURN(int64_t rows, prepare_feed(feed));
    if (samples >= 0 && rows != samples)
      return invalid_argument("{}: input '{}' has {} samples, but '{}' has {}", path, feed.input.name, rows,
                              feeds[0].input.name, samples);
    samples = rows;
  }
  if (samples <= 0) return invalid_argument("{}: no samples (the arrays have 0 rows)", path);
  if (options.max_samples > 0) samples = std::min(samples, options.max_samples);
  return std::unique_ptr<CalibrationData>(
      new ArrayData(std::move(feeds), samples, options.batch_size, fmt::format("{} ({} samples)", path, samples)));
}

}  // namespace

Result<std::unique_ptr<CalibrationData>> open_calibration_data(const std::string& path,
                                                               const std::vector<ModelInput>& inputs,
                                                               const CalibrationDataOptions& options) {
  if (inputs.empty()) return invalid_argument("calibration data {}: the model has no inputs", path);
  if (options.batch_size <= 0)
    return invalid_argument("calibration batch size {} must be positive", options.batch_size);
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  if (!is_dir && !fs::exists(path, ec)) return not_found("{}: no such calibration data file or folder", path);
  const std::string ext = lower_extension(path);
  if (!is_dir && ext == ".npz") {
    FULCRUM_ASSIGN_OR_RETURN(std::vector<Feed> feeds, npz_feeds(path, inputs));
    return open_arrays(path, std::move(feeds), options);
  }
  if (inputs.size() > 1)
    return invalid_argument("{}: the model has {} inputs; give a .npz with one array per input, named after it", path,
                            inputs.size());
  if (!is_dir && ext == ".npy") {
    std::vector<Feed> feeds;
    feeds.push_back(make_feed(inputs[0], 1, [path](size_t) { return open_npy_stream(path); }));
    return open_arrays(path, std::move(feeds), options);
  }
  if (!is_dir) return invalid_argument("{}: calibration data must be a folder, a .npy or a .npz file", path);
  bool images = false;
  FULCRUM_ASSIGN_OR_RETURN(std::vector<std::string> files, list_folder(path, images));
  if (images) return open_image_folder(path, std::move(files), inputs[0], options);
  const size_t count = files.size();
  std::vector<Feed> feeds;
  feeds.push_back(
      make_feed(inputs[0], count, [files = std::move(files)](size_t i) { return open_npy_stream(files[i]); }));
  return open_arrays(path, std::move(feeds), options);
}

}  // namespace fulcrum::quant
