#pragma once

namespace fulcrum {
// "0.1.0"
const char* version_string();
}  // namespace fulcrum
