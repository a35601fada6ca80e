// Internal (domain "fulcrum") ops that fusion passes create: a Conv, Gemm or MatMul with an
// epilogue of element-wise post-ops (bias, activations, a residual Add) run on its output
// before it is stored, and fulcrum.Silu (x * sigmoid(x)), which exists so SiLU can be a
// post-op.
//
// A fused node's inputs are the anchor's three slots (X, W, B for Conv; A, B, C for Gemm;
// A, B and an empty slot for MatMul), then one input per binary post-op. Its raw attributes
// are the anchor's, plus the post-op list, so it round-trips through an engine file like any
// ONNX node:
//   post_ops        strings: the post-ops' op types, "domain.Op" outside the ONNX domain
//   post_op_opsets  ints: the opset each post-op's semantics (and attributes) follow
//   post_op_inputs  ints: the fused node's input holding a binary post-op's other operand
//                   (-1 for a unary post-op)
//   post<i>.<attr>  the attributes of post-op i ("post1.alpha")
//   anchor          string, FusedMatMul only: "Gemm" or "MatMul"
// Each post-op is parsed by its own op's schema, so any op with the kEpilogueFusable trait
// can be a post-op, and its reference kernel is the post-op's oracle.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ops/conv.h"
#include "ops/matmul.h"
#include "ops/registry.h"

namespace fulcrum::ops {

inline constexpr const char* kFulcrumDomain = "fulcrum";
inline constexpr size_t kFusedAnchorInputs = 3;

struct PostOp {
  std::string domain;  // "" for ONNX
  std::string op_type;
  int64_t opset = 1;
  int64_t input = -1;  // the fused node's input holding the other operand; -1: unary
  Attributes attrs;    // the op's own attributes, as its schema reads them
  std::shared_ptr<const OpAttrs> typed;
  // "Relu", "fulcrum.Gelu": how attributes and messages name the op.
  std::string qualified_name() const { return domain.empty() ? op_type : domain + "." + op_type; }
};

struct Epilogue {
  std::vector<PostOp> post_ops;
};

// How a tensor lays out its channels: plain NCHW, oneDNN's nChw8c / nChw16c, which the IR
// holds as a 5-D tensor [N, C/b, H, W, b] (ops/layout.h), or NHWC (channels last, held as the
// 4-D [N, H, W, C]), which INT8 convolutions use.
enum class Layout { kNchw, kNchw8c, kNchw16c, kNhwc };

struct FusedConvAttrs : ConvAttrs {
  Epilogue epilogue;
  // src_layout / dst_layout ("NCHW", "NCHW8c" or "NCHW16c"; default NCHW; "NHWC" for QConv
  // only). A blocked destination applies to the output and to every full-shape (residual)
  // post-op operand.
  Layout src_layout = Layout::kNchw;
  Layout dst_layout = Layout::kNchw;
};

// fulcrum.FusedConvDepthwise: a pointwise (1x1) FusedConv and the depthwise FusedConv that
// alone reads its output, run as one oneDNN convolution with a depthwise post-op so the
// (typically 6x expanded) tensor between them never leaves the cache. Inputs: X, W, B of the
// pointwise conv, then W, B of the depthwise one (B may be empty). Attributes: each conv's
// raw FusedConv attributes under the prefixes "pw." and "dw." (their epilogues unary only).
struct FusedConvDepthwiseAttrs : OpAttrs {
  std::shared_ptr<const FusedConvAttrs> pointwise, depthwise;
};
inline constexpr size_t kDepthwiseWeightsInput = 3;

// The raw attributes of a FusedConvDepthwise from its two convs' FusedConv attributes.
Attributes conv_depthwise_attrs(const Attributes& pointwise, const Attributes& depthwise);

struct FusedMatMulAttrs : GemmAttrs {
  bool gemm = false;  // the anchor is Gemm (else MatMul, whose attributes are the defaults)
  Epilogue epilogue;
};

// "NCHW" / "NCHW8c" / "NCHW16c" / "NHWC", and back.
const char* layout_name(Layout layout);
Result<Layout> parse_layout(const std::string& name);
// Channels per block (1 for NCHW and NHWC), and the blocked layout of a block size (8 or 16).
int64_t layout_block(Layout layout);
Result<Layout> blocked_layout(int64_t block);

// Replaces the epilogue's raw attributes (post_ops, post_op_opsets, post_op_inputs,
// post<i>.*) in `attrs` with `post_ops`: for a pass creating or growing a fused node.
void set_epilogue_attrs(const std::vector<PostOp>& post_ops, Attributes& attrs);
// The epilogue part of a fused node's raw attributes, parsed.
Result<Epilogue> parse_epilogue(const Attributes& attrs);
// The FusedConv part of a fused conv node's raw attributes (the anchor Conv's, the epilogue,
// src_layout / dst_layout, any layout), parsed into `out`; fulcrum.QConv's parser builds on it.
Status parse_fused_conv_attrs(const Attributes& attrs, FusedConvAttrs& out);
// `attrs` without the fused op's own entries (epilogue, layouts): the anchor's attributes.
Attributes anchor_attrs(const Attributes& attrs);

}  // namespace fulcrum::ops
