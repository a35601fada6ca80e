#include "ops/signal.h"

#include "core/error.h"
#include "ops/onnx_types.h"

namespace fulcrum::ops {
namespace {

// The output_datatype attribute: an ONNX TensorProto.DataType code, FLOAT by default.
DType read_output_datatype(AttrReader& r) {
  const int64_t code = r.i("output_datatype", 1);
  const DType dtype = dtype_from_onnx_code(code);
  r.check(dtype != DType::kUndefined && dtype != DType::kBool,
          fmt::format("attribute 'output_datatype' must name a numeric type, got {}", onnx_type_name(code)));
  return dtype;
}

bool read_flag(AttrReader& r, const char* name, bool fallback) {
  const int64_t v = r.i(name, fallback ? 1 : 0);
  r.check(v == 0 || v == 1, fmt::format("attribute '{}' must be 0 or 1, got {}", name, v));
  return v == 1;
}

void fill_window(AttrReader& r, int64_t, WindowAttrs& a) {
  a.periodic = read_flag(r, "periodic", true);
  a.output_dtype = read_output_datatype(r);
}

void fill_dft(AttrReader& r, int64_t opset, DFTAttrs& a) {
  a.inverse = read_flag(r, "inverse", false);
  a.onesided = read_flag(r, "onesided", false);
  if (opset < 20) a.axis = r.i("axis", 1);
}

void fill_stft(AttrReader& r, int64_t, STFTAttrs& a) { a.onesided = read_flag(r, "onesided", true); }

void fill_mel_weight_matrix(AttrReader& r, int64_t, MelWeightMatrixAttrs& a) {
  a.output_dtype = read_output_datatype(r);
}

const OpRegistrar kBlackmanWindow({"BlackmanWindow", "", 17, kNoTraits, attr_parser(fill_window)});
const OpRegistrar kHammingWindow({"HammingWindow", "", 17, kNoTraits, attr_parser(fill_window)});
const OpRegistrar kHannWindow({"HannWindow", "", 17, kNoTraits, attr_parser(fill_window)});
const OpRegistrar kDFT({"DFT", "", 17, kNoTraits, attr_parser(fill_dft)});
const OpRegistrar kSTFT({"STFT", "", 17, kNoTraits, attr_parser(fill_stft)});
const OpRegistrar kMelWeightMatrix({"MelWeightMatrix", "", 17, kNoTraits, attr_parser(fill_mel_weight_matrix)});

}  // namespace
}  // namespace fulcrum::ops
