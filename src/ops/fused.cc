#include "ops/fused.h"

#include "core/error.h"
#include "ops/elementwise.h"

namespace fulcrum::ops {
namespace {

constexpr const char* kPostOps = "post_ops";
constexpr const char* kPostOpOpsets = "post_op_opsets";
constexpr const char* kPostOpInputs = "post_op_inputs";
constexpr const char* kAnchor = "anchor";
constexpr const char* kSrcLayout = "src_layout";
constexpr const char* kDstLayout = "dst_layout";

std::string post_op_prefix(size_t i) { return "post" + std::to_string(i) + "."; }

// A key of the fused op itself, not of its anchor.
bool is_fused_key(const std::string& name) {
  return name == kPostOps || name == kSrcLayout || name == kDstLayout || name == kPostOpOpsets ||
         name == kPostOpInputs || name == kAnchor ||
         (name.rfind("post", 0) == 0 && name.find('.') != std::string::npos);
}

template <class T>
Result<std::vector<T>> list_attr(const Attributes& attrs, const char* name) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return std::vector<T>();
  if (const auto* v = std::get_if<std::vector<T>>(&it->second)) return *v;
  return invalid_argument("attribute '{}' has kind {}", name, attr_kind_name(it->second));
}

Result<PostOp> parse_post_op(const Attributes& attrs, size_t i, const std::string& name, int64_t opset, int64_t input) {
  PostOp op;
  const size_t dot = name.rfind('.');
  op.domain = dot == std::string::npos ? "" : name.substr(0, dot);
  op.op_type = dot == std::string::npos ? name : name.substr(dot + 1);
  op.opset = opset;
  op.input = input;
  const std::string prefix = post_op_prefix(i);
  for (const auto& [key, value] : attrs)
    if (key.rfind(prefix, 0) == 0) op.attrs.emplace(key.substr(prefix.size()), value);
  const OpSchema* schema = find_schema(op.domain, op.op_type);
  if (schema == nullptr || (schema->traits & kEpilogueFusable) == 0)
    return invalid_argument("post-op {} ({}) is not an epilogue-fusable op", i, name);
  if (opset < schema->min_opset)
    return invalid_argument("post-op {} ({}) needs opset {} or later, got {}", i, name, schema->min_opset, opset);
  if (input < -1 || (input >= 0 && input < static_cast<int64_t>(kFusedAnchorInputs)))
    return invalid_argument("post-op {} ({}) reads input {}, which is not a post-op input", i, name, input);
  auto typed = schema->parse(op.attrs, opset);
  if (!typed.is_ok()) return typed.status().with_context(fmt::format("post-op {} ({})", i, name));
  op.typed = std::move(typed).value();
  return op;
}

Result<std::shared_ptr<const OpAttrs>> parse_anchor(const char* anchor, const Attributes& attrs) {
  const OpSchema* schema = find_schema("", anchor);
  if (schema == nullptr) return internal_error("no schema for the anchor op {}", anchor);
  return schema->parse(anchor_attrs(attrs), 1);
}

Result<std::shared_ptr<const OpAttrs>> parse_fused_conv(const Attributes& attrs, int64_t) {
  auto out = std::make_shared<FusedConvAttrs>();
  FULCRUM_RETURN_IF_ERROR(parse_fused_conv_attrs(attrs, *out));
  // NHWC is the layout of INT8 tensors (fulcrum.QConv); no float kernel reads or writes it.
  for (auto [key, layout] : {std::pair{kSrcLayout, out->src_layout}, std::pair{kDstLayout, out->dst_layout}})
    if (layout == Layout::kNhwc) return invalid_argument("attribute '{}': FusedConv does not take NHWC", key);
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

Result<std::shared_ptr<const OpAttrs>> parse_fused_matmul(const Attributes& attrs, int64_t) {
  auto it = attrs.find(kAnchor);
  const std::string* anchor = it == attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
  if (anchor == nullptr || (*anchor != "Gemm" && *anchor != "MatMul"))
    return invalid_argument("attribute 'anchor' must be the string \"Gemm\" or \"MatMul\"");
  auto out = std::make_shared<FusedMatMulAttrs>();
  out->gemm = *anchor == "Gemm";
  if (out->gemm) {
    FULCRUM_ASSIGN_OR_RETURN(auto gemm, parse_anchor("Gemm", attrs));
    static_cast<GemmAttrs&>(*out) = static_cast<const GemmAttrs&>(*gemm);
  }
  FULCRUM_ASSIGN_OR_RETURN(out->epilogue, parse_epilogue(attrs));
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

constexpr const char* kPointwisePrefix = "pw.";
constexpr const char* kDepthwisePrefix = "dw.";

Result<std::shared_ptr<const OpAttrs>> parse_fused_conv_depthwise(const Attributes& attrs, int64_t opset) {
  auto out = std::make_shared<FusedConvDepthwiseAttrs>();
  for (auto [prefix, part] :
       {std::pair{kPointwisePrefix, &out->pointwise}, std::pair{kDepthwisePrefix, &out->depthwise}}) {
    Attributes raw;
    for (const auto& [key, value] : attrs)
      if (key.rfind(prefix, 0) == 0) raw.emplace(key.substr(std::string_view(prefix).size()), value);
    auto parsed = parse_fused_conv(raw, opset);
    if (!parsed.is_ok()) return parsed.status().with_context(std::string(prefix, 2) + " conv");
    *part = std::static_pointer_cast<const FusedConvAttrs>(std::move(parsed).value());
    for (const PostOp& op : (*part)->epilogue.post_ops)
      if (op.input >= 0)
        return invalid_argument("{} conv: post-op {} reads an input; only unary post-ops fuse", std::string(prefix, 2),
                                op.op_type);
  }
  const FusedConvAttrs& dw = *out->depthwise;
  if (out->pointwise->group != 1 || dw.group < 1 || out->pointwise->dst_layout != dw.src_layout)
    return invalid_argument("expected a pointwise conv (group 1) writing the layout the depthwise conv reads");
  return std::shared_ptr<const OpAttrs>(std::move(out));
}

const OpRegistrar kFusedConv({"FusedConv", kFulcrumDomain, 1, kNoTraits, parse_fused_conv});
const OpRegistrar kFusedConvDepthwise({"FusedConvDepthwise", kFulcrumDomain, 1, kNoTraits, parse_fused_conv_depthwise});
const OpRegistrar kFusedMatMul({"FusedMatMul", kFulcrumDomain, 1, kNoTraits, parse_fused_matmul});
// SiLU (Swish): x * sigmoid(x). ONNX spells it Sigmoid + Mul; the epilogue pass names it so
// it can be a post-op.
const OpRegistrar kSilu({"Silu", kFulcrumDomain, 1, kElementwise | kEpilogueFusable, nullptr});

}  // namespace

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::kNchw8c: return "NCHW8c";
    case Layout::kNchw16c: return "NCHW16c";
    case Layout::kNhwc: return "NHWC";
    default: return "NCHW";
  }
}

Result<Layout> parse_layout(const std::string& name) {
  for (Layout l : {Layout::kNchw, Layout::kNchw8c, Layout::kNchw16c, Layout::kNhwc})
    if (name == layout_name(l)) return l;
  return invalid_argument("unknown layout \"{}\" (expected \"NCHW\", \"NCHW8c\", \"NCHW16c\" or \"NHWC\")", name);
}

int64_t layout_block(Layout layout) { return layout == Layout::kNchw8c ? 8 : layout == Layout::kNchw16c ? 16 : 1; }

Result<Layout> blocked_layout(int64_t block) {
  if (block == 8) return Layout::kNchw8c;
  if (block == 16) return Layout::kNchw16c;
  return invalid_argument("no blocked layout has {} channels per block (8 or 16)", block);
}

void set_epilogue_attrs(const std::vector<PostOp>& post_ops, Attributes& attrs) {
  std::erase_if(attrs,
                [](const auto& entry) { return entry.first.rfind("post", 0) == 0 && is_fused_key(entry.first); });
  std::vector<std::string> names;
  std::vector<int64_t> opsets, inputs;
  for (size_t i = 0; i < post_ops.size(); ++i) {
    const PostOp& op = post_ops[i];
    names.push_back(op.qualified_name());
    opsets.push_back(op.opset);
    inputs.push_back(op.input);
    for (const auto& [key, value] : op.attrs) attrs[post_op_prefix(i) + key] = value;
  }
  attrs[kPostOps] = std::move(names);
  attrs[kPostOpOpsets] = std::move(opsets);
  attrs[kPostOpInputs] = std::move(inputs);
}

Result<Epilogue> parse_epilogue(const Attributes& attrs) {
  FULCRUM_ASSIGN_OR_RETURN(auto names, list_attr<std::string>(attrs, kPostOps));
  FULCRUM_ASSIGN_OR_RETURN(auto opsets, list_attr<int64_t>(attrs, kPostOpOpsets));
  FULCRUM_ASSIGN_OR_RETURN(auto inputs, list_attr<int64_t>(attrs, kPostOpInputs));
  if (opsets.size() != names.size() || inputs.size() != names.size())
    return invalid_argument("attributes '{}', '{}' and '{}' must have one entry per post-op ({}, {} and {})", kPostOps,
                            kPostOpOpsets, kPostOpInputs, names.size(), opsets.size(), inputs.size());
  Epilogue e;
  for (size_t i = 0; i < names.size(); ++i) {
    FULCRUM_ASSIGN_OR_RETURN(PostOp op, parse_post_op(attrs, i, names[i], opsets[i], inputs[i]));
    e.post_ops.push_back(std::move(op));
  }
  return e;
}

Status parse_fused_conv_attrs(const Attributes& attrs, FusedConvAttrs& out) {
  FULCRUM_ASSIGN_OR_RETURN(auto conv, parse_anchor("Conv", attrs));
  FULCRUM_ASSIGN_OR_RETURN(Epilogue epilogue, parse_epilogue(attrs));
  static_cast<ConvAttrs&>(out) = static_cast<const ConvAttrs&>(*conv);
  out.epilogue = std::move(epilogue);
  for (auto [key, layout] : {std::pair{kSrcLayout, &out.src_layout}, std::pair{kDstLayout, &out.dst_layout}}) {
    auto it = attrs.find(key);
    if (it == attrs.end()) continue;
    const auto* name = std::get_if<std::string>(&it->second);
    if (name == nullptr) return invalid_argument("attribute '{}' must be a string", key);
    FULCRUM_ASSIGN_OR_RETURN(*layout, parse_layout(*name));
  }
  return Status::ok();
}

Attributes conv_depthwise_attrs(const Attributes& pointwise, const Attributes& depthwise) {
  Attributes out;
  for (const auto& [key, value] : pointwise) out.emplace(kPointwisePrefix + key, value);
  for (const auto& [key, value] : depthwise) out.emplace(kDepthwisePrefix + key, value);
  return out;
}

Attributes anchor_attrs(const Attributes& attrs) {
  Attributes out;
  for (const auto& [key, value] : attrs)
    if (!is_fused_key(key)) out.emplace(key, value);
  return out;
}

}  // namespace fulcrum::ops
