// Inputs for `fulcrum bench`: the --shapes syntax, the shape each input gets, and the data
// generated for inputs the user does not give.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {

struct InputRequest {
  std::map<std::string, Shape> shapes;  // --shapes
  std::map<std::string, Tensor> given;  // --input NAME=FILE.npy
  int64_t batch = 1;                    // --batch
  bool batch_given = false;
};

struct BenchInputs {
  std::vector<NamedTensor> tensors;  // in the model's input order
  std::vector<bool> generated;       // per tensor: made up here rather than read from a file
  int64_t batch = 1;                 // the batch the inputs were made for
};

// Parses "NAME:D0xD1x...[,NAME2:...]" (each spec may hold several, comma-separated).
Result<std::map<std::string, Shape>> parse_shapes(const std::vector<std::string>& specs);

// Gives every declared input a tensor: the --input file, else generated data whose shape is
// the --shapes entry, else the declared shape with symbolic dimensions filled in (dim 0 from
// the batch, named dimensions from other inputs that share them). A symbolic dimension that
// none of these settles is an error naming the input and the dimension.
Result<BenchInputs> make_inputs(const std::vector<TensorDesc>& declared, const InputRequest& request);

}  // namespace fulcrum::cli
