#include "backends/cpu/quant_epilogue.h"

#include "core/error.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

bool is_add(const ops::PostOp& op) { return op.domain.empty() && op.op_type == "Add"; }
bool is_relu(const ops::PostOp& op) { return op.domain.empty() && op.op_type == "Relu"; }

// The operand (index among the binary post-ops) that becomes the sum post-op: the 8-bit
// residual if there is one, else, into a float32 destination, the first full-shape operand.
std::optional<size_t> sum_operand(const QuantDst& dst, const std::vector<QuantOperand>& operands) {
  for (size_t i = 0; i < operands.size(); ++i)
    if (ops::is_8bit(operands[i].dtype)) return i;
  if (dst.dtype != DType::kFloat32) return std::nullopt;
  for (size_t i = 0; i < operands.size(); ++i)
    if (operands[i].shape == dst.dims) return i;
  return std::nullopt;
}

Status check_operands(const ops::QuantParams& q, const QuantDst& dst, const std::vector<QuantOperand>& operands) {
  size_t quantized = 0;
  for (size_t i = 0; i < operands.size(); ++i) {
    const QuantOperand& o = operands[i];
    if (ops::is_8bit(o.dtype)) {
      ++quantized;
      if (o.shape != dst.dims)
        return invalid_argument("{} operand {} {} must have the output's shape {}", dtype_name(o.dtype), i,
                                shape_to_string(o.shape), shape_to_string(dst.dims));
      if (q.operand_scales[i] <= 0.f)
        return invalid_argument("operand {} is {} but its operand scale is 0", i, dtype_name(o.dtype));
    } else if (o.dtype != DType::kFloat32) {
      return invalid_argument("operand {} has dtype {}; expected float32, int8 or uint8", i, dtype_name(o.dtype));
    }
  }
  if (quantized > 1) return unimplemented("more than one int8/uint8 post-op operand");
  return Status::ok();
}

// A binary operand's desc: right-aligned to the destination (size-1 axes broadcast); one of the
// destination's full shape in the layout it arrives in.
Result<memory::desc> binary_desc(const Shape& s, const QuantDst& dst) {
  if (s.size() > dst.dims.size())
    return invalid_argument("Add operand {} is wider than the output", shape_to_string(s));
  Shape dims(dst.dims.size() - s.size(), 1);
  dims.insert(dims.end(), s.begin(), s.end());
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d] != 1 && dims[d] != dst.dims[d])
      return invalid_argument("Add operand {} does not broadcast onto {}", shape_to_string(s),
                              shape_to_string(dst.dims));
  return dims == dst.dims ? plain_desc(dims, dst.operand_tag) : plain_desc(dims);
}

// The reorder that puts the residual into the destination before the primitive runs.
SumOperand make_sum(size_t input, const QuantOperand& o, float scale, const QuantDst& dst) {
  SumOperand s;
  s.input = input;
  s.user = memory::desc(to_dims(dst.dims), dnnl_dtype(o.dtype),
                        ops::is_8bit(o.dtype) ? dst.int8_operand_tag : dst.operand_tag);
  // An 8-bit destination holds the operand's own integers (the sum post-op scales them); a
  // float32 one its real values.
  const DType held = dst.dtype == DType::kFloat32 ? DType::kFloat32 : o.dtype;
  s.dst = memory::desc(to_dims(dst.dims), dnnl_dtype(held), dst.tag);
  dnnl::primitive_attr attr;
  if (held == DType::kFloat32 && ops::is_8bit(o.dtype)) attr.set_output_scales(0, {scale});
  s.copy = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), s.user, dnnl_engine(), s.dst, attr));
  return s;
}

}  // namespace

ChannelScales channel_scales(const ops::QuantParams& q, int64_t channels, const Tensor& bias) {
  ChannelScales out;
  for (int64_t c = 0; c < (q.w_scales.size() == 1 ? 1 : channels); ++c)
    out.scales.push_back(q.in_scale * q.w_scales[static_cast<size_t>(c)]);
  if (bias.defined()) {
    out.bias = empty_float({channels});
    for (int64_t c = 0; c < channels; ++c)
      out.bias.mutable_data<float>()[c] = bias.data<float>()[c] / out.scales[out.scales.size() == 1 ? 0 : c];
  }
  return out;
}

memory::data_type dnnl_dtype(DType dtype) {
  switch (dtype) {
    case DType::kInt8: return memory::data_type::s8;
    case DType::kUInt8: return memory::data_type::u8;
    default: return memory::data_type::f32;
  }
}

bool supports_quant_epilogue(const ops::Epilogue& e, const ops::QuantParams& q, const ir::Node& node) {
  size_t quantized = 0, operand = 0;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) {
      dnnl::post_ops scratch;
      if (!append_unary_post_op(op, scratch)) return false;
      continue;
    }
    const size_t i = static_cast<size_t>(op.input);
    if (!is_add(op) || i >= node.inputs.size() || node.inputs[i] == nullptr) return false;
    const DType dtype = value_info(node, i).dtype;
    if (ops::is_8bit(dtype) && q.operand_scales[operand] > 0.f)
      ++quantized;
    else if (dtype != DType::kFloat32)
      return false;
    ++operand;
  }
  return quantized <= 1;
}

namespace {

// The 8-bit residual of an epilogue made of ReLUs and that one Add: it can be read in place as
// a binary post-op if the accumulator is brought to the residual's units (x_scale *
// w_scale / operand_scale) — ReLU and Add commute with the positive rescaling that follows.
std::optional<size_t> in_place_residual(const ops::Epilogue& e, const std::vector<QuantOperand>& operands) {
  if (operands.size() != 1 || !ops::is_8bit(operands[0].dtype)) return std::nullopt;
  for (const ops::PostOp& op : e.post_ops)
    if (op.input < 0 ? !is_relu(op) : !is_add(op)) return std::nullopt;
  return 0;
}

Result<QuantEpilogue> plan_binary_residual(const ops::Epilogue& e, const ops::QuantParams& q, const QuantDst& dst,
                                           const QuantOperand& o, const std::vector<float>& channel_scales) {
  const float operand_scale = q.operand_scales[0];
  QuantEpilogue out;
  for (float s : channel_scales) out.output_scales.push_back(s / operand_scale);
  out.attr.set_output_scales(channel_scales.size() > 1 ? 1 << 1 : 0, out.output_scales);
  dnnl::post_ops post_ops;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) {
      post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      continue;
    }
    const memory::desc desc(to_dims(dst.dims), dnnl_dtype(o.dtype), dst.int8_operand_tag);
    out.binary.push_back({post_ops.len(), static_cast<size_t>(op.input), desc});
    post_ops.append_binary(dnnl::algorithm::binary_add, desc);
  }
  const float to_out = dst.dtype == DType::kFloat32 ? operand_scale : operand_scale / q.out_scale;
  post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, to_out, 0.f);
  out.attr.set_post_ops(post_ops);
  return out;
}

}  // namespace

Result<QuantEpilogue> plan_quant_epilogue(const ops::Epilogue& e, const ops::QuantParams& q, const QuantDst& dst,
                                          const std::vector<QuantOperand>& operands,
                                          const std::vector<float>& channel_scales, bool binary_residual) {
  FULCRUM_RETURN_IF_ERROR(check_operands(q, dst, operands));
  if (binary_residual && in_place_residual(e, operands))
    return plan_binary_residual(e, q, dst, operands[0], channel_scales);
  const bool int_out = dst.dtype != DType::kFloat32;
  const std::optional<size_t> sum = sum_operand(dst, operands);
  // 1/y_scale commutes with ReLU and with the sum (whose scale takes it too).
  bool fold = int_out;
  for (size_t i = 0, operand = 0; i < e.post_ops.size(); ++i) {
    const ops::PostOp& op = e.post_ops[i];
    fold = fold && (op.input < 0 ? is_relu(op) : sum == operand);
    if (op.input >= 0) ++operand;
  }
  const float multiplier = fold ? 1.f / q.out_scale : 1.f;
  QuantEpilogue out;
  for (float s : channel_scales) out.output_scales.push_back(s * multiplier);
  out.attr.set_output_scales(channel_scales.size() > 1 ? 1 << 1 : 0, out.output_scales);
  dnnl::post_ops post_ops;
  size_t operand = 0;
  for (const ops::PostOp& op : e.post_ops) {
    if (op.input < 0) {
      if (!append_unary_post_op(op, post_ops)) return unimplemented("post-op {} has no oneDNN eltwise", op.op_type);
      continue;
    }
    if (!is_add(op)) return unimplemented("binary post-op {} is not an Add", op.op_type);
    const size_t i = operand++;
    const QuantOperand& o = operands[i];
    if (sum == i) {
      const float scale = ops::is_8bit(o.dtype) ? q.operand_scales[i] : 1.f;
      if (int_out)
        post_ops.append_sum(scale * multiplier, dnnl_dtype(o.dtype));
      else
        post_ops.append_sum(1.f);
      out.sum = make_sum(static_cast<size_t>(op.input), o, scale, dst);
      continue;
    }
    FULCRUM_ASSIGN_OR_RETURN(memory::desc desc, binary_desc(o.shape, dst));
    out.binary.push_back({post_ops.len(), static_cast<size_t>(op.input), desc});
    post_ops.append_binary(dnnl::algorithm::binary_add, desc);
  }
  if (int_out && !fold) post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / q.out_scale, 0.f);
  out.attr.set_post_ops(post_ops);
  return out;
}

void prepare_epilogue(const QuantEpilogue& e, const KernelContext& ctx, const memory& dst, ExecArgs& args) {
  if (e.sum) {
    memory held(e.sum->dst, dnnl_engine(), dst.get_data_handle());
    memory operand = wrap(ctx.input(e.sum->input), e.sum->user);
    e.sum->copy.execute(dnnl_stream(), operand, held);
  }
  for (const BinaryOperand& o : e.binary)
    args.add(DNNL_ARG_ATTR_MULTIPLE_POST_OP(o.post_op) | DNNL_ARG_SRC_1, wrap(ctx.input(o.input), o.desc));
}

}  // namespace fulcrum::backends::cpu
