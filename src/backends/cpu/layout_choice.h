// What the CPU backend wants its layout pass to choose on this machine.
#pragma once

#include <cstdint>

namespace fulcrum::backends::cpu {

// Channels per block of blocked activations: 16 where oneDNN runs AVX-512 kernels
// (nChw16c), else 8 (nChw8c, AVX2).
int64_t preferred_channel_block();

}  // namespace fulcrum::backends::cpu
