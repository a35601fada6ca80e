// The INT8 scales of a build (implicit quantization): from the calibration cache (made by
// calibrating first when the file does not exist yet and data is given), then the user's
// dynamic ranges, into graph.tensor_scales. Scales a Q/DQ model fixed are kept.
#pragma once

#include <string>
#include <vector>

#include "fulcrum/engine.h"
#include "ir/graph.h"

namespace fulcrum::runtime {

// Whether the build may put any layer in INT8 (the flag, or an INT8 layer request).
bool wants_int8(const BuilderConfig& config);

// Attaches the scales; warnings (a stale cache, cache entries naming no tensor of the model)
// are logged and appended to `warnings` if given. Errors name the cache file or tensor.
Status attach_int8_scales(ir::Graph& graph, const BuilderConfig& config, std::vector<std::string>* warnings = nullptr);

}  // namespace fulcrum::runtime
