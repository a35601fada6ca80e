// The optimized CPU backend: oneDNN primitives for convolution, matrix products and
// pooling. It takes only the nodes it runs fast (float32, the common layouts); put it
// before the reference backend, which runs the rest.
#pragma once

#include "backends/backend.h"

namespace fulcrum::backends {

Backend& cpu_backend();

}  // namespace fulcrum::backends
