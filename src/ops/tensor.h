// Tensor movement and shape ops: Constant, Identity, Reshape, Flatten, Squeeze, Unsqueeze,
// Transpose, Concat, Split, Slice, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range,
// Trilu, EyeLike, OneHot, CumSum, DepthToSpace, SpaceToDepth, Compress, ReverseSequence,
// NonZero. Their typed attributes live here; the shape arithmetic they share is in
// ops/tensor_shape.h.
//
// Attributes that later opsets turned into inputs (Reshape's shape, Squeeze's axes, Slice's
// starts/ends, Pad's pads...) are parsed only for the opsets that have them; kernels read the
// input instead from the opset where it moved.
#pragma once

#include <optional>
#include <vector>

#include "ops/registry.h"

namespace fulcrum::ops {

// Constant: the value, whichever attribute (value, value_float(s), value_int(s)) gave it.
struct ConstantAttrs : OpAttrs {
  Tensor value;
};

// Reshape: `shape` is the attribute of Reshape-1 (an input from opset 5).
struct ReshapeAttrs : OpAttrs {
  bool allowzero = false;
  std::optional<std::vector<int64_t>> shape;
};

struct FlattenAttrs : OpAttrs {
  int64_t axis = 1;
};

// Squeeze and Unsqueeze before opset 13 (axes became an input in 13).
struct AxesAttrs : OpAttrs {
  std::optional<std::vector<int64_t>> axes;
};

struct TransposeAttrs : OpAttrs {
  std::optional<std::vector<int64_t>> perm;  // default: reverse the axes
};

struct ConcatAttrs : OpAttrs {
  int64_t axis = 1;
};

// Split: `split` is the attribute of opsets 2-12 (an input from 13).
struct SplitAttrs : OpAttrs {
  int64_t axis = 0;
  std::optional<std::vector<int64_t>> split;
  int64_t num_outputs = 0;  // opset 18; 0 = the node's output count
};

// Slice before opset 10 (starts/ends/axes became inputs in 10).
struct SliceAttrs : OpAttrs {
  std::vector<int64_t> starts;
  std::vector<int64_t> ends;
  std::optional<std::vector<int64_t>> axes;
};

enum class PadMode { kConstant, kReflect, kEdge };

// Pad: `pads` and `value` are the attributes of opsets 1-10 (inputs from 11).
struct PadAttrs : OpAttrs {
  PadMode mode = PadMode::kConstant;
  std::vector<int64_t> pads;
  float value = 0.0f;
};

// Shape: start/end (opset 15) select a range of the dimensions.
struct ShapeAttrs : OpAttrs {
  int64_t start = 0;
  std::optional<int64_t> end;
};

// ConstantOfShape: a one-element tensor whose value and dtype fill the output.
struct ConstantOfShapeAttrs : OpAttrs {
  Tensor value;
};

struct TriluAttrs : OpAttrs {
  bool upper = true;
};

struct EyeLikeAttrs : OpAttrs {
  DType dtype = DType::kUndefined;  // undefined: the input's dtype
  int64_t k = 0;
};

struct OneHotAttrs : OpAttrs {
  int64_t axis = -1;
};

struct CumSumAttrs : OpAttrs {
  bool exclusive = false;
  bool reverse = false;
};

struct DepthToSpaceAttrs : OpAttrs {
  int64_t blocksize = 0;
  bool crd = false;  // mode "CRD" (column-row-depth); default "DCR"
};

struct SpaceToDepthAttrs : OpAttrs {
  int64_t blocksize = 0;
};

struct CompressAttrs : OpAttrs {
  std::optional<int64_t> axis;  // absent: compress the flattened input
};

struct ReverseSequenceAttrs : OpAttrs {
  int64_t batch_axis = 1;
  int64_t time_axis = 0;
};

}  // namespace fulcrum::ops
