#include "backends/reference/elementwise_common.h"

#include "ops/elementwise.h"

namespace fulcrum::backends::reference::ew {

BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<Shape>& ins) {
  const size_t n = ins.size();
  std::vector<std::vector<int64_t>> full;
  for (const Shape& s : ins) full.push_back(ops::broadcast_strides(s, out));
  BroadcastPlan plan;
  plan.strides.resize(n);
  for (size_t d = out.size(); d-- > 0;) {
    if (out[d] == 1) continue;  // contributes nothing to any offset
    if (!plan.dims.empty()) {
      const size_t last = plan.dims.size() - 1;
      bool mergeable = true;
      for (size_t k = 0; k < n; ++k) mergeable = mergeable && full[k][d] == plan.strides[k][last] * plan.dims[last];
      if (mergeable) {
        plan.dims[last] *= out[d];
        continue;
      }
    }
    plan.dims.push_back(out[d]);
    for (size_t k = 0; k < n; ++k) plan.strides[k].push_back(full[k][d]);
  }
  if (plan.dims.empty()) {  // a scalar, or all dimensions 1
    plan.dims.push_back(1);
    for (size_t k = 0; k < n; ++k) plan.strides[k].push_back(0);
  }
  return plan;
}

Result<Shape> broadcast_pair(const Shape& a, const Shape& b) { return ops::broadcast_shapes({a, b}); }

Status require_input(const KernelContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return invalid_argument("input {} ('{}') is required", i, name);
  return Status::ok();
}

namespace {

// Opset < 7: with broadcast=0 the shapes must match; with broadcast=1, B's shape is a
// contiguous run of A's dimensions starting at `axis` (default: its trailing dimensions),
// where B may also hold 1 for a dimension of A.
Result<Shape> legacy_b_shape(const ops::BinaryAttrs& attrs, const Shape& a, const Shape& b) {
  if (!attrs.broadcast) {
    if (a != b)
      return invalid_argument("input shapes {} and {} differ and attribute 'broadcast' is 0 (opset < 7)",
                              shape_to_string(a), shape_to_string(b));
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.size());
  const int64_t rank_b = static_cast<int64_t>(b.size());
  if (rank_b > rank_a)
    return invalid_argument("input B {} has a higher rank than A {} (legacy broadcast)", shape_to_string(b),
                            shape_to_string(a));
  int64_t axis = attrs.has_axis ? attrs.axis : rank_a - rank_b;
  if (axis < 0) axis += rank_a;
  if (axis < 0 || axis + rank_b > rank_a)
    return invalid_argument("attribute 'axis' {} does not place B {} inside A {}", attrs.axis, shape_to_string(b),
                            shape_to_string(a));
  Shape out(a.size(), 1);
  for (int64_t i = 0; i < rank_b; ++i) out[static_cast<size_t>(axis + i)] = b[static_cast<size_t>(i)];
  for (size_t i = 0; i < a.size(); ++i)
    if (out[i] != 1 && out[i] != a[i])
      return invalid_argument("input B {} cannot be broadcast onto A {} at axis {}", shape_to_string(b),
                              shape_to_string(a), axis);
  return out;
}

}  // namespace

Result<BinaryOperands> binary_operands(const KernelContext& ctx) {
  FULCRUM_RETURN_IF_ERROR(require_input(ctx, 0, "A"));
  FULCRUM_RETURN_IF_ERROR(require_input(ctx, 1, "B"));
  BinaryOperands ops{ctx.input(0), ctx.input(1), {}};
  const auto* attrs = dynamic_cast<const ops::BinaryAttrs*>(ctx.node().typed_attrs.get());
  if (attrs != nullptr && attrs->legacy) {
    FULCRUM_ASSIGN_OR_RETURN(Shape b_shape, legacy_b_shape(*attrs, ops.a.shape(), ops.b.shape()));
    ops.b = ops.b.reshaped(b_shape);
    ops.out = ops.a.shape();
    return ops;
  }
  FULCRUM_ASSIGN_OR_RETURN(ops.out, broadcast_pair(ops.a.shape(), ops.b.shape()));
  return ops;
}

}  // namespace fulcrum::backends::reference::ew
