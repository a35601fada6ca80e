#include "frontend/onnx/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/stubs/logging.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "core/error.h"
#include "core/logging.h"

namespace fulcrum::frontend::onnx {
namespace {

// Protobuf logs parse failures to stderr itself; we report them as one Status instead.
struct QuietProtobuf {
  QuietProtobuf() { old_ = google::protobuf::SetLogHandler(nullptr); }
  ~QuietProtobuf() { google::protobuf::SetLogHandler(old_); }
  google::protobuf::LogHandler* old_;
};

}  // namespace

Status read_model_proto(const std::string& path, ::onnx::ModelProto& model) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("{}: cannot open model file", path);
  bool parsed = false;
  bool at_end = false;
  {
    QuietProtobuf quiet;
    google::protobuf::io::FileInputStream file(fd);
    google::protobuf::io::CodedInputStream coded(&file);
    coded.SetTotalBytesLimit(INT_MAX);
    parsed = model.ParseFromCodedStream(&coded);
    at_end = coded.ConsumedEntireMessage();
  }
  ::close(fd);
  if (!parsed || !at_end)
    return parse_error(
        "{}: not a valid ONNX model (the file does not parse as an ONNX ModelProto; "
        "is it truncated, or not an .onnx file?)",
        path);
  if (!model.has_graph() || model.ir_version() <= 0)
    return parse_error("{}: not a valid ONNX model (no graph or no ir_version)", path);
  return Status::ok();
}

Status check_model_proto(const ::onnx::ModelProto& model, const std::string& model_dir, const std::string& path) {
  try {
    ::onnx::checker::CheckerContext ctx;
    ctx.set_ir_version(static_cast<int>(model.ir_version()));
    std::unordered_map<std::string, int> opsets;
    for (const auto& oi : model.opset_import()) opsets[oi.domain()] = static_cast<int>(oi.version());
    if (model.ir_version() >= 3 && opsets.empty()) return invalid_argument("{}: the model imports no opset", path);
    ctx.set_opset_imports(opsets);
    ctx.set_schema_registry(::onnx::OpSchemaRegistry::Instance());
    ctx.set_model_dir(model_dir);
    ::onnx::checker::LexicalScopeContext lex;
    ::onnx::checker::check_graph(model.graph(), ctx, lex);
    ::onnx::checker::check_model_local_functions(model, ctx, lex);
  } catch (const std::exception& e) {
    // The checker's messages span lines ("...\n\n==> Context: ..."); report them as one.
    std::string message = e.what();
    for (size_t pos; (pos = message.find("\n\n")) != std::string::npos;) message.replace(pos, 2, "; ");
    for (char& c : message)
      if (c == '\n') c = ' ';
    return invalid_argument("{}: the ONNX checker rejects the model: {}", path, message);
  }
  return Status::ok();
}

void infer_shapes(::onnx::ModelProto& model, const std::string& path) {
  // libonnx 1.12's Einsum inference corrupts memory on some implicit-output equations ("Yc")
  // and aborts the process; intermediate types are a convenience, so do without them.
  for (const auto& node : model.graph().node()) {
    if (node.op_type() != "Einsum") continue;
    for (const auto& attr : node.attribute())
      if (attr.name() == "equation" && attr.s().find("->") == std::string::npos) {
        log_verbose("{}: skipping ONNX shape inference (implicit-output Einsum in node '{}')", path, node.name());
        return;
      }
  }
  try {
    ::onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
    ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    log_warning("{}: ONNX shape inference failed, continuing without it: {}", path, e.what());
  }
}

}  // namespace fulcrum::frontend::onnx
