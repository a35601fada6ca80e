// Conversions between IR values and the public TensorDesc, and the check that user inputs
// fit the model's declared inputs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fulcrum/network.h"
#include "fulcrum/status.h"
#include "ir/graph.h"

namespace fulcrum::runtime {

TensorDesc describe(const ir::Value& value);

// Checks that `inputs` name every graph input exactly once, with the declared dtype and a
// shape that fits the declared one (fixed dims equal; a symbolic dim takes one value across
// all inputs). Returns the tensors in the graph's input order. Errors name the tensor.
Result<std::vector<Tensor>> bind_inputs(const std::vector<TensorDesc>& declared,
                                        const std::vector<NamedTensor>& inputs);

}  // namespace fulcrum::runtime
