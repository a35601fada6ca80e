// Internal ops (domain "fulcrum") that the transformer fusion passes create:
//
//   fulcrum.Gelu(X) = X / 2 * (1 + erf(X / sqrt(2)))   the exact GELU of BERT and ViT
//
// Gelu is elementwise and epilogue-fusable, so the epilogue fusion may absorb it into a
// MatMul as oneDNN's eltwise_gelu_erf. It has no attributes.
#include "ops/registry.h"

namespace fulcrum::ops {
namespace {

const OpRegistrar kGelu({"Gelu", "fulcrum", 1, kElementwise | kEpilogueFusable, no_attrs});

}  // namespace
}  // namespace fulcrum::ops
