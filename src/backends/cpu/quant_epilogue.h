// What fulcrum.QConv and fulcrum.QMatMul (ops/quantized_fused.h) share on oneDNN: the
// attributes that take the int32 accumulator to the output.
//
// Output scales (x_scale * w_scale[c], per output channel) bring the accumulator into the
// real domain, so the post-ops see real values, as the op states: activations as eltwise
// post-ops, and a final eltwise linear 1/y_scale for an int8/uint8 output (folded into the
// output scales when every post-op is a ReLU or the residual sum, which commute with a
// positive scale). A full-shape residual operand becomes oneDNN's sum post-op: it is copied
// into the destination before the primitive runs (a reorder: int8 bytes as they are, scaled
// by the sum's scale; into a float32 destination, dequantized by the copy). Other operands
// (float32 ones that broadcast, or a second residual) are binary post-ops.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/dnnl_context.h"
#include "backends/cpu/post_ops.h"
#include "ops/quantized_fused.h"

namespace fulcrum::backends::cpu {

// oneDNN's data type for float32 / int8 / uint8.
dnnl::memory::data_type dnnl_dtype(DType dtype);

// x_scale * w_scale[c] for each of `channels` output channels (one value for a single weight
// scale), and `bias` divided by them (oneDNN 2.6 adds the bias before the output scales), or
// undefined without a bias.
struct ChannelScales {
  std::vector<float> scales;
  Tensor bias;
};
ChannelScales channel_scales(const ops::QuantParams& q, int64_t channels, const Tensor& bias);

// The destination the epilogue writes.
struct QuantDst {
  Shape dims;  // logical (NCHW, or [rows, N])
  DType dtype = DType::kFloat32;
  Tag tag = Tag::undef;               // the primitive's layout of it
  Tag operand_tag = Tag::undef;       // the layout a full-shape float32 operand arrives in
  Tag int8_operand_tag = Tag::undef;  // ... and an int8/uint8 one
};

// A binary post-op's operand as the kernel sees it: its logical shape and dtype.
struct QuantOperand {
  Shape shape;
  DType dtype = DType::kFloat32;
};

// The residual copied into the destination before the primitive runs.
struct SumOperand {
  size_t input = 0;
  dnnl::memory::desc user;  // the operand as it arrives
  dnnl::memory::desc dst;   // the destination buffer, seen with the operand's data type when 8-bit
  dnnl::reorder copy;
};

struct QuantEpilogue {
  dnnl::primitive_attr attr;  // output scales and post-ops
  std::vector<float> output_scales;
  std::vector<BinaryOperand> binary;
  std::optional<SumOperand> sum;
};

// True when every post-op of the node's epilogue maps onto oneDNN given the operands' declared
// dtypes (at most one int8/uint8 operand, which must be a residual).
bool supports_quant_epilogue(const ops::Epilogue& e, const ops::QuantParams& q, const ir::Node& node);

// The attributes for a primitive whose per-channel scales are `channel_scales` (x_scale *
// w_scale[c], one value or one per channel along dst axis 1).
// `binary_residual`: an 8-bit residual in an epilogue of ReLUs and that Add is read in place
// as a binary post-op (in its own quantized units) instead of being copied into the
// destination for the sum post-op; the caller falls back to false if no fast kernel takes it.
Result<QuantEpilogue> plan_quant_epilogue(const ops::Epilogue& e, const ops::QuantParams& q, const QuantDst& dst,
                                          const std::vector<QuantOperand>& operands,
                                          const std::vector<float>& channel_scales, bool binary_residual = false);

// The dtypes and logical shapes of the epilogue's operands; `logical(tensor)` maps an operand's
// physical shape to the logical one (NHWC -> NCHW for a full-shape int8 QConv operand).
template <class Logical>
std::vector<QuantOperand> quant_operands(const ops::Epilogue& e, const KernelContext& ctx, Logical&& logical) {
  std::vector<QuantOperand> out;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) continue;
    const Tensor& t = ctx.input(static_cast<size_t>(op.input));
    out.push_back({logical(t), t.dtype()});
  }
  return out;
}

// Before the primitive runs: copies the residual (if any) into `dst`, and adds the binary
// operands to `args`.
void prepare_epilogue(const QuantEpilogue& e, const KernelContext& ctx, const dnnl::memory& dst, ExecArgs& args);

}  // namespace fulcrum::backends::cpu
