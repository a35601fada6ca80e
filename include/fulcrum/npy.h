// NumPy .npy files: how tensors enter and leave the CLI, the tests and the Python tools.
#pragma once

#include <string>

#include "fulcrum/status.h"
#include "fulcrum/tensor.h"

namespace fulcrum {

// Reads a .npy file (format 1.0-3.0, little-endian, C order). Errors name the file.
Result<Tensor> load_npy(const std::string& path);
// Writes `tensor` as a version 1.0 .npy file.
Status save_npy(const std::string& path, const Tensor& tensor);

}  // namespace fulcrum
