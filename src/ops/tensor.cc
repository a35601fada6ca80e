#include "ops/tensor.h"

#include <string>

#include "core/error.h"
#include "ops/onnx_types.h"

namespace fulcrum::ops {
namespace {

using ParsedAttrs = Result<std::shared_ptr<const OpAttrs>>;

// Constant carries its value in exactly one of several attributes; string and sparse
// values have no Tensor representation, so they are unsupported rather than invalid.
ParsedAttrs parse_constant(const Attributes& attrs, int64_t) {
  if (attrs.count("sparse_value")) return unimplemented("Constant with a 'sparse_value' attribute is not supported");
  if (attrs.count("value_string") || attrs.count("value_strings"))
    return unimplemented("Constant with a string value ('value_string(s)') is not supported");
  AttrReader r(attrs);
  int given = 0;
  for (const char* name : {"value", "value_float", "value_floats", "value_int", "value_ints"}) given += r.has(name);
  r.check(given == 1, fmt::format("Constant needs exactly one of the attributes value, value_float, value_floats, "
                                  "value_int, value_ints; got {}",
                                  given));
  auto out = std::make_shared<ConstantAttrs>();
  if (r.has("value")) {
    out->value = r.tensor("value");
  } else if (r.has("value_float")) {
    out->value = Tensor::from_vector<float>(DType::kFloat32, {}, {r.f("value_float", 0.0f)});
  } else if (r.has("value_floats")) {
    std::vector<float> v = r.floats("value_floats");
    out->value = Tensor::from_vector<float>(DType::kFloat32, {static_cast<int64_t>(v.size())}, v);
  } else if (r.has("value_int")) {
    out->value = Tensor::from_vector<int64_t>(DType::kInt64, {}, {r.i("value_int", 0)});
  } else if (r.has("value_ints")) {
    std::vector<int64_t> v = r.ints("value_ints");
    out->value = Tensor::from_vector<int64_t>(DType::kInt64, {static_cast<int64_t>(v.size())}, v);
  }
  if (!r.status().is_ok()) return r.status();
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

ParsedAttrs parse_eye_like(const Attributes& attrs, int64_t) {
  AttrReader r(attrs);
  auto out = std::make_shared<EyeLikeAttrs>();
  out->k = r.i("k", 0);
  if (r.has("dtype")) {
    int64_t onnx_type = r.i("dtype", 0);
    out->dtype = dtype_from_onnx_code(onnx_type);
    if (r.status().is_ok() && out->dtype == DType::kUndefined)
      return unimplemented("attribute 'dtype' = {} names an ONNX type Fulcrum does not support", onnx_type);
  }
  if (!r.status().is_ok()) return r.status();
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

void fill_reshape(AttrReader& r, int64_t opset, ReshapeAttrs& a) {
  if (opset >= 14) a.allowzero = r.i("allowzero", 0) != 0;
  if (opset < 5) {
    r.require("shape");
    a.shape = r.ints("shape");
  }
}

void fill_flatten(AttrReader& r, int64_t, FlattenAttrs& a) { a.axis = r.i("axis", 1); }

void fill_squeeze(AttrReader& r, int64_t opset, AxesAttrs& a) {
  if (opset < 13 && r.has("axes")) a.axes = r.ints("axes");
}

void fill_unsqueeze(AttrReader& r, int64_t opset, AxesAttrs& a) {
  if (opset >= 13) return;
  r.require("axes");
  a.axes = r.ints("axes");
}

void fill_transpose(AttrReader& r, int64_t, TransposeAttrs& a) {
  if (r.has("perm")) a.perm = r.ints("perm");
}

void fill_concat(AttrReader& r, int64_t opset, ConcatAttrs& a) {
  // Concat-1 defaulted axis to 1; from opset 4 it is required.
  if (opset >= 4) r.require("axis");
  a.axis = r.i("axis", 1);
}

void fill_split(AttrReader& r, int64_t opset, SplitAttrs& a) {
  a.axis = r.i("axis", 0);
  if (opset < 13 && r.has("split")) a.split = r.ints("split");
  if (opset >= 18) {
    a.num_outputs = r.i("num_outputs", 0);
    r.check(a.num_outputs >= 0, "attribute 'num_outputs' must not be negative");
  }
}

void fill_slice(AttrReader& r, int64_t opset, SliceAttrs& a) {
  if (opset >= 10) return;
  r.require("starts");
  r.require("ends");
  a.starts = r.ints("starts");
  a.ends = r.ints("ends");
  if (r.has("axes")) a.axes = r.ints("axes");
  r.check(a.starts.size() == a.ends.size(), "attributes 'starts' and 'ends' must have the same length");
  r.check(!a.axes || a.axes->size() == a.starts.size(), "attribute 'axes' must have as many entries as 'starts'");
}

void fill_pad(AttrReader& r, int64_t opset, PadAttrs& a) {
  std::string mode = r.s("mode", "constant");
  if (mode == "reflect")
    a.mode = PadMode::kReflect;
  else if (mode == "edge")
    a.mode = PadMode::kEdge;
  else
    r.check(mode == "constant", fmt::format("attribute 'mode' must be constant, reflect or edge, got '{}'", mode));
  if (opset >= 11) return;
  // Pad-1 called the attribute 'paddings'.
  const char* name = opset < 2 ? "paddings" : "pads";
  r.require(name);
  a.pads = r.ints(name);
  a.value = r.f("value", 0.0f);
}

void fill_shape(AttrReader& r, int64_t opset, ShapeAttrs& a) {
  if (opset < 15) return;
  a.start = r.i("start", 0);
  if (r.has("end")) a.end = r.i("end", 0);
}

void fill_constant_of_shape(AttrReader& r, int64_t, ConstantOfShapeAttrs& a) {
  if (r.has("value")) {
    a.value = r.tensor("value");
    r.check(a.value.numel() == 1, fmt::format("attribute 'value' must hold exactly one element, got shape {}",
                                              shape_to_string(a.value.shape())));
  } else {
    a.value = Tensor::from_vector<float>(DType::kFloat32, {1}, {0.0f});
  }
}

void fill_trilu(AttrReader& r, int64_t, TriluAttrs& a) { a.upper = r.i("upper", 1) != 0; }

void fill_one_hot(AttrReader& r, int64_t, OneHotAttrs& a) { a.axis = r.i("axis", -1); }

void fill_cum_sum(AttrReader& r, int64_t, CumSumAttrs& a) {
  a.exclusive = r.i("exclusive", 0) != 0;
  a.reverse = r.i("reverse", 0) != 0;
}

void fill_depth_to_space(AttrReader& r, int64_t opset, DepthToSpaceAttrs& a) {
  r.require("blocksize");
  a.blocksize = r.i("blocksize", 0);
  r.check(a.blocksize > 0, fmt::format("attribute 'blocksize' must be positive, got {}", a.blocksize));
  if (opset < 11) return;
  std::string mode = r.s("mode", "DCR");
  r.check(mode == "DCR" || mode == "CRD", fmt::format("attribute 'mode' must be DCR or CRD, got '{}'", mode));
  a.crd = mode == "CRD";
}

void fill_space_to_depth(AttrReader& r, int64_t, SpaceToDepthAttrs& a) {
  r.require("blocksize");
  a.blocksize = r.i("blocksize", 0);
  r.check(a.blocksize > 0, fmt::format("attribute 'blocksize' must be positive, got {}", a.blocksize));
}

void fill_compress(AttrReader& r, int64_t, CompressAttrs& a) {
  if (r.has("axis")) a.axis = r.i("axis", 0);
}

void fill_reverse_sequence(AttrReader& r, int64_t, ReverseSequenceAttrs& a) {
  a.batch_axis = r.i("batch_axis", 1);
  a.time_axis = r.i("time_axis", 0);
  r.check(
      (a.batch_axis == 0 || a.batch_axis == 1) && (a.time_axis == 0 || a.time_axis == 1) && a.batch_axis != a.time_axis,
      fmt::format("attributes 'batch_axis' ({}) and 'time_axis' ({}) must be 0 and 1 in some order", a.batch_axis,
                  a.time_axis));
}

constexpr uint32_t kMoves = kShapeOnly;

const OpRegistrar kConstant({"Constant", "", 1, kNoTraits, parse_constant});
const OpRegistrar kIdentity({"Identity", "", 1, kMoves, nullptr});
const OpRegistrar kReshape({"Reshape", "", 1, kMoves, attr_parser(fill_reshape)});
const OpRegistrar kFlatten({"Flatten", "", 1, kMoves, attr_parser(fill_flatten)});
const OpRegistrar kSqueeze({"Squeeze", "", 1, kMoves, attr_parser(fill_squeeze)});
const OpRegistrar kUnsqueeze({"Unsqueeze", "", 1, kMoves, attr_parser(fill_unsqueeze)});
const OpRegistrar kTranspose({"Transpose", "", 1, kMoves, attr_parser(fill_transpose)});
const OpRegistrar kConcat({"Concat", "", 1, kMoves, attr_parser(fill_concat)});
const OpRegistrar kSplit({"Split", "", 1, kMoves, attr_parser(fill_split)});
const OpRegistrar kSlice({"Slice", "", 1, kMoves, attr_parser(fill_slice)});
const OpRegistrar kExpand({"Expand", "", 8, kMoves, nullptr});
const OpRegistrar kTile({"Tile", "", 6, kMoves, nullptr});
const OpRegistrar kPad({"Pad", "", 1, kNoTraits, attr_parser(fill_pad)});
const OpRegistrar kShape({"Shape", "", 1, kNoTraits, attr_parser(fill_shape)});
const OpRegistrar kSize({"Size", "", 1, kNoTraits, nullptr});
const OpRegistrar kConstantOfShape({"ConstantOfShape", "", 9, kNoTraits, attr_parser(fill_constant_of_shape)});
const OpRegistrar kRange({"Range", "", 11, kNoTraits, nullptr});
const OpRegistrar kTrilu({"Trilu", "", 14, kNoTraits, attr_parser(fill_trilu)});
const OpRegistrar kEyeLike({"EyeLike", "", 9, kNoTraits, parse_eye_like});
const OpRegistrar kOneHot({"OneHot", "", 9, kNoTraits, attr_parser(fill_one_hot)});
const OpRegistrar kCumSum({"CumSum", "", 11, kNoTraits, attr_parser(fill_cum_sum)});
const OpRegistrar kDepthToSpace({"DepthToSpace", "", 1, kMoves, attr_parser(fill_depth_to_space)});
const OpRegistrar kSpaceToDepth({"SpaceToDepth", "", 1, kMoves, attr_parser(fill_space_to_depth)});
const OpRegistrar kCompress({"Compress", "", 9, kDataDependentShape, attr_parser(fill_compress)});
const OpRegistrar kReverseSequence({"ReverseSequence", "", 10, kMoves, attr_parser(fill_reverse_sequence)});
const OpRegistrar kNonZero({"NonZero", "", 9, kDataDependentShape, nullptr});

}  // namespace
}  // namespace fulcrum::ops
