// Elementwise ops: unary math, binary arithmetic/comparison/logic with broadcasting,
// variadic Sum/Mean/Max/Min, activations, Clip, Where, Cast and CastLike.
#pragma once

#include <string>

#include "fulcrum/tensor.h"
#include "ops/registry.h"

namespace fulcrum::ops {

// LeakyRelu, Elu, Selu, Celu, HardSigmoid, ThresholdedRelu...: the parameters an
// activation may carry (unused ones keep their defaults).
struct ActivationAttrs : OpAttrs {
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
};

// Binary ops before opset 7 (Add, Mul, Pow, And, Equal...) broadcast only when asked, and
// only B onto A, optionally aligned at `axis` instead of at the trailing dimensions.
// From opset 7 on they broadcast like numpy and carry no attributes (legacy = false).
struct BinaryAttrs : OpAttrs {
  bool legacy = false;     // opset < 7: the rules below apply instead of numpy broadcasting
  bool broadcast = false;  // legacy only: B may be broadcast onto A
  bool has_axis = false;
  int64_t axis = 0;
};

struct ModAttrs : OpAttrs {
  bool fmod = false;  // true: C fmod (sign of the dividend); false: sign of the divisor
};

struct BitShiftAttrs : OpAttrs {
  bool left = true;
};

struct IsInfAttrs : OpAttrs {
  bool detect_negative = true;
  bool detect_positive = true;
};

struct ShrinkAttrs : OpAttrs {
  float bias = 0.0f;
  float lambd = 0.5f;
};

// Before opset 11 Clip's bounds are attributes; from 11 on they are optional inputs.
struct ClipAttrs : OpAttrs {
  bool bounds_from_attrs = false;
  float min = 0.0f;
  float max = 0.0f;
};

struct CastAttrs : OpAttrs {
  DType to = DType::kUndefined;  // kUndefined: a type Fulcrum does not hold (see to_name)
  std::string to_name;           // the ONNX name of the target type, for messages
};

}  // namespace fulcrum::ops
