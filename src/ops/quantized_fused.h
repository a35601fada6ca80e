// Fulcrum's INT8 compute ops, which the build's INT8 lowering (passes/lower_int8) makes of the
// layers the precision plan put in INT8: fulcrum.QConv and fulcrum.QMatMul. Quantization is
// symmetric (zero point 0): a tensor's real value is q * scale, with q in int8 [-128, 127] or,
// for tensors known to be >= 0 (after a ReLU), uint8 [0, 255].
//
// fulcrum.QConv — inputs X, W, B, then one input per binary post-op (as fulcrum.FusedConv):
//   X  float32, int8 or uint8, in src_layout (NCHW, or NHWC held as the 4-D [N, H, W, C]).
//      A float32 X is quantized by the op itself to x_dtype with x_scale (round half to even,
//      saturate); an int8/uint8 X already is, and must have dtype x_dtype.
//   W  int8 constant [OC, IC/group, kH, kW]; real weight = W * w_scales[oc] (per output
//      channel; a single scale applies to all).
//   B  optional float32 [OC], real-valued (added to the real accumulator).
//   y_real = epilogue(conv(X_real, W_real) + B), the epilogue's post-ops on real values; a
//   binary post-op's operand is float32, or int8/uint8 with operand_scales[i] > 0 (real =
//   q * scale). A full-shape int8/uint8 operand (another QConv's output) is NHWC, a float32
//   one NCHW, whatever dst_layout is.
//   Y  float32 when y_dtype is "float32"; else int8/uint8 = saturate(round_half_even(y_real /
//      y_scale)), in dst_layout.
//   Attributes: the Conv attributes, the epilogue's (ops/fused.h), src_layout, dst_layout, and
//     x_scale float, x_dtype "int8"|"uint8", w_scales floats, y_scale float (ignored for a
//     float32 Y), y_dtype "float32"|"int8"|"uint8", operand_scales floats (one per binary
//     post-op, in order; 0 for a float32 operand).
//
// fulcrum.QMatMul — inputs A, B, C (optional bias), then binary post-op operands:
//   A  float32, int8 or uint8 [..., M, K] (quantized like QConv's X: a_scale, a_dtype).
//   B  int8 constant [K, N]; real = B * w_scales[n] (per output column, or one scale).
//   C  optional float32 [N] bias. Y = epilogue(A_real x B_real + C), stored like QConv's Y.
//   Attributes: the epilogue's, a_scale, a_dtype, w_scales, y_scale, y_dtype, operand_scales.
//   (Gemm's transB / alpha / beta are resolved by the lowering: B is stored [K, N] and scaled.)
#pragma once

#include <string>
#include <vector>

#include "fulcrum/tensor.h"
#include "ops/fused.h"

namespace fulcrum::ops {

// int8 or uint8: the dtypes a quantized tensor has.
inline bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }
// The int8/uint8/float32 spelling of x_dtype / y_dtype attributes.
const char* quant_dtype_name(DType dtype);
Result<DType> parse_quant_dtype(const std::string& name, bool allow_float);

struct QuantParams {
  float in_scale = 1.f;               // x_scale / a_scale
  DType in_dtype = DType::kInt8;      // what the input is (or is quantized to): int8 or uint8
  std::vector<float> w_scales;        // per output channel / column, or one
  float out_scale = 1.f;              // y_scale (unused for a float32 output)
  DType out_dtype = DType::kFloat32;  // float32, int8 or uint8
  std::vector<float> operand_scales;  // per binary post-op; 0: float32 operand
};

struct QConvAttrs : FusedConvAttrs {
  QuantParams quant;
};

struct QMatMulAttrs : OpAttrs {
  Epilogue epilogue;
  QuantParams quant;
};

// Attribute names (the lowering pass writes them, the parsers read them).
inline constexpr const char* kXScale = "x_scale";
inline constexpr const char* kXDtype = "x_dtype";
inline constexpr const char* kAScale = "a_scale";
inline constexpr const char* kADtype = "a_dtype";
inline constexpr const char* kWScales = "w_scales";
inline constexpr const char* kYScale = "y_scale";
inline constexpr const char* kYDtype = "y_dtype";
inline constexpr const char* kOperandScales = "operand_scales";

}  // namespace fulcrum::ops
