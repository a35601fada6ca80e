#include "ops/elementwise.h"

#include "ops/onnx_types.h"

#include <array>
#include <cfloat>

namespace fulcrum::ops {

namespace {

constexpr uint32_t kEw = kElementwise;
constexpr uint32_t kAct = kElementwise | kEpilogueFusable;

void fill_binary(AttrReader& r, int64_t opset, BinaryAttrs& a) {
  if (opset >= 7) return;  // numpy broadcasting; the legacy attributes no longer exist
  a.legacy = true;
  a.broadcast = r.i("broadcast", 0) != 0;
  a.has_axis = r.has("axis");
  a.axis = r.i("axis", 0);
}

void fill_mod(AttrReader& r, int64_t, ModAttrs& a) {
  int64_t fmod = r.i("fmod", 0);
  r.check(fmod == 0 || fmod == 1, "attribute 'fmod' must be 0 or 1, got " + std::to_string(fmod));
  a.fmod = fmod == 1;
}

void fill_bitshift(AttrReader& r, int64_t, BitShiftAttrs& a) {
  r.require("direction");
  std::string dir = r.s("direction", "LEFT");
  r.check(dir == "LEFT" || dir == "RIGHT", "attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"" + dir + "\"");
  a.left = dir == "LEFT";
}

void fill_isinf(AttrReader& r, int64_t, IsInfAttrs& a) {
  a.detect_negative = r.i("detect_negative", 1) != 0;
  a.detect_positive = r.i("detect_positive", 1) != 0;
}

void fill_shrink(AttrReader& r, int64_t, ShrinkAttrs& a) {
  a.bias = r.f("bias", 0.0f);
  a.lambd = r.f("lambd", 0.5f);
}

void fill_clip(AttrReader& r, int64_t opset, ClipAttrs& a) {
  if (opset >= 11) return;  // bounds are inputs
  a.bounds_from_attrs = true;
  a.min = r.f("min", -FLT_MAX);
  a.max = r.f("max", FLT_MAX);
}

void fill_cast(AttrReader& r, int64_t opset, CastAttrs& a) {
  r.require("to");
  if (opset < 6) {  // Cast-1 names the type with a string ("FLOAT")
    a.to_name = r.s("to", "");
    a.to = dtype_from_onnx_code(onnx_code_from_name(a.to_name));
    r.check(a.to != DType::kUndefined || a.to_name == "STRING" || a.to_name.rfind("COMPLEX", 0) == 0,
            "attribute 'to' names an unknown type \"" + a.to_name + "\"");
    return;
  }
  int64_t code = r.i("to", 1);
  r.check(valid_onnx_code(code), "attribute 'to' is not a valid ONNX type code: " + std::to_string(code));
  a.to = dtype_from_onnx_code(code);
  a.to_name = onnx_type_name(code);
}

void fill_leaky_relu(AttrReader& r, int64_t, ActivationAttrs& a) { a.alpha = r.f("alpha", 0.01f); }
void fill_elu(AttrReader& r, int64_t, ActivationAttrs& a) { a.alpha = r.f("alpha", 1.0f); }
void fill_celu(AttrReader& r, int64_t, ActivationAttrs& a) {
  a.alpha = r.f("alpha", 1.0f);
  r.check(a.alpha != 0.0f, "attribute 'alpha' must not be 0");
}
void fill_thresholded_relu(AttrReader& r, int64_t, ActivationAttrs& a) { a.alpha = r.f("alpha", 1.0f); }
void fill_selu(AttrReader& r, int64_t, ActivationAttrs& a) {
  a.alpha = r.f("alpha", 1.67326319217681884765625f);
  a.gamma = r.f("gamma", 1.05070102214813232421875f);
}
void fill_hard_sigmoid(AttrReader& r, int64_t, ActivationAttrs& a) {
  a.alpha = r.f("alpha", 0.2f);
  a.beta = r.f("beta", 0.5f);
}

// Unary math. Opset 1 versions differ from 6 only by the 'consumed_inputs' hint, which
// inference ignores, so they start at 1.
const OpRegistrar kAbs({"Abs", "", 1, kEw, nullptr});
const OpRegistrar kNeg({"Neg", "", 1, kEw, nullptr});
const OpRegistrar kExp({"Exp", "", 1, kEw, nullptr});
const OpRegistrar kLog({"Log", "", 1, kEw, nullptr});
const OpRegistrar kSqrt({"Sqrt", "", 1, kEw, nullptr});
const OpRegistrar kReciprocal({"Reciprocal", "", 1, kEw, nullptr});
const OpRegistrar kFloor({"Floor", "", 1, kEw, nullptr});
const OpRegistrar kCeil({"Ceil", "", 1, kEw, nullptr});
const OpRegistrar kRound({"Round", "", 11, kEw, nullptr});
const OpRegistrar kSign({"Sign", "", 9, kEw, nullptr});
const OpRegistrar kSin({"Sin", "", 7, kEw, nullptr});
const OpRegistrar kCos({"Cos", "", 7, kEw, nullptr});
const OpRegistrar kTan({"Tan", "", 7, kEw, nullptr});
const OpRegistrar kAsin({"Asin", "", 7, kEw, nullptr});
const OpRegistrar kAcos({"Acos", "", 7, kEw, nullptr});
const OpRegistrar kAtan({"Atan", "", 7, kEw, nullptr});
const OpRegistrar kSinh({"Sinh", "", 9, kEw, nullptr});
const OpRegistrar kCosh({"Cosh", "", 9, kEw, nullptr});
const OpRegistrar kAsinh({"Asinh", "", 9, kEw, nullptr});
const OpRegistrar kAcosh({"Acosh", "", 9, kEw, nullptr});
const OpRegistrar kAtanh({"Atanh", "", 9, kEw, nullptr});
const OpRegistrar kErf({"Erf", "", 9, kEw, nullptr});
const OpRegistrar kIsNaN({"IsNaN", "", 9, kEw, nullptr});
const OpRegistrar kIsInf({"IsInf", "", 10, kEw, attr_parser(fill_isinf)});
const OpRegistrar kNot({"Not", "", 1, kEw, nullptr});

// Binary arithmetic, comparison and logic.
const OpRegistrar kAdd({"Add", "", 1, kAct, attr_parser(fill_binary)});
const OpRegistrar kSub({"Sub", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kMul({"Mul", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kDiv({"Div", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kPow({"Pow", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kMod({"Mod", "", 10, kEw, attr_parser(fill_mod)});
const OpRegistrar kBitShift({"BitShift", "", 11, kEw, attr_parser(fill_bitshift)});
const OpRegistrar kEqual({"Equal", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kGreater({"Greater", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kLess({"Less", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kGreaterOrEqual({"GreaterOrEqual", "", 12, kEw, nullptr});
const OpRegistrar kLessOrEqual({"LessOrEqual", "", 12, kEw, nullptr});
const OpRegistrar kAnd({"And", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kOr({"Or", "", 1, kEw, attr_parser(fill_binary)});
const OpRegistrar kXor({"Xor", "", 1, kEw, attr_parser(fill_binary)});

// Variadic (opset < 8: equal shapes; from 8: numpy broadcasting).
const OpRegistrar kSum({"Sum", "", 1, kEw, nullptr});
const OpRegistrar kMean({"Mean", "", 1, kEw, nullptr});
const OpRegistrar kMax({"Max", "", 1, kEw, nullptr});
const OpRegistrar kMin({"Min", "", 1, kEw, nullptr});
const OpRegistrar kWhere({"Where", "", 9, kEw, nullptr});

// Activations.
const OpRegistrar kRelu({"Relu", "", 1, kAct, nullptr});
const OpRegistrar kLeakyRelu({"LeakyRelu", "", 1, kAct, attr_parser(fill_leaky_relu)});
const OpRegistrar kPRelu({"PRelu", "", 1, kAct, nullptr});
const OpRegistrar kElu({"Elu", "", 1, kAct, attr_parser(fill_elu)});
const OpRegistrar kSelu({"Selu", "", 1, kAct, attr_parser(fill_selu)});
const OpRegistrar kCelu({"Celu", "", 12, kAct, attr_parser(fill_celu)});
const OpRegistrar kSigmoid({"Sigmoid", "", 1, kAct, nullptr});
const OpRegistrar kHardSigmoid({"HardSigmoid", "", 1, kAct, attr_parser(fill_hard_sigmoid)});
const OpRegistrar kHardSwish({"HardSwish", "", 14, kAct, nullptr});
const OpRegistrar kTanh({"Tanh", "", 1, kAct, nullptr});
const OpRegistrar kSoftplus({"Softplus", "", 1, kAct, nullptr});
const OpRegistrar kSoftsign({"Softsign", "", 1, kAct, nullptr});
const OpRegistrar kThresholdedRelu({"ThresholdedRelu", "", 10, kAct, attr_parser(fill_thresholded_relu)});
const OpRegistrar kShrink({"Shrink", "", 9, kAct, attr_parser(fill_shrink)});
const OpRegistrar kClip({"Clip", "", 1, kAct, attr_parser(fill_clip)});

// Type conversion.
const OpRegistrar kCast({"Cast", "", 1, kEw, attr_parser(fill_cast)});
const OpRegistrar kCastLike({"CastLike", "", 15, kEw, nullptr});

}  // namespace
}  // namespace fulcrum::ops
