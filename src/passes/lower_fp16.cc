#include "passes/lower_fp16.h"

#include <unordered_map>
#include <vector>

#include "core/float16_convert.h"
#include "ir/graph_edit.h"
#include "passes/fp16_safety.h"

namespace fulcrum::passes {
namespace {

// Where a constant is read: by FP16 layers as data (to round), or by anyone else.
struct Readers {
  std::vector<std::pair<ir::Node*, size_t>> fp16;  // (node, input index)
  bool other = false;                              // an FP32 layer, a parameter input, a graph output
};

Tensor rounded_copy(const Tensor& t) {
  Tensor out = Tensor::zeros(DType::kFloat32, t.shape());
  round_to_fp16(t.data<float>(), out.mutable_data<float>(), static_cast<size_t>(t.numel()));
  return out;
}

bool needs_rounding(const ir::Value& v) {
  return v.is_constant() && v.constant.dtype() == DType::kFloat32 && v.constant.numel() > 0 &&
         v.constant.data<float>() != nullptr &&
         !fp16_exact(v.constant.data<float>(), static_cast<size_t>(v.constant.numel()));
}

}  // namespace

Result<bool> LowerFp16::run(ir::Graph& graph, PassContext& ctx) {
  std::unordered_map<ir::Value*, Readers> readers;
  std::vector<ir::Value*> order;  // graph order, so new names do not depend on hashing
  for (const auto& n : graph.nodes()) {
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      ir::Value* v = n->inputs[i];
      if (v == nullptr || !v->is_constant()) continue;
      auto [it, added] = readers.try_emplace(v);
      if (added) order.push_back(v);
      if (n->precision == Precision::kFp16 && is_fp16_data_input(*n, i))
        it->second.fp16.emplace_back(n.get(), i);
      else
        it->second.other = true;
    }
  }
  for (ir::Value* v : graph.outputs)
    if (auto it = readers.find(v); it != readers.end()) it->second.other = true;

  int64_t rounded = 0, copied = 0;
  for (ir::Value* v : order) {
    const Readers& r = readers[v];
    if (r.fp16.empty() || !needs_rounding(*v)) continue;
    Tensor fp16 = rounded_copy(v->constant);
    ++rounded;
    if (!r.other) {  // only FP16 layers read it: the value itself now holds the rounded copy
      v->constant = std::move(fp16);
      continue;
    }
    FULCRUM_ASSIGN_OR_RETURN(ir::Value * copy, graph.add_value(ir::unique_value_name(graph, v->name() + "_fp16")));
    copy->type = v->type;
    copy->constant = std::move(fp16);
    for (auto [node, i] : r.fp16) node->inputs[i] = copy;
    ++copied;
  }
  if (rounded == 0) return false;
  ctx.count(name(), "weights rounded to FP16", rounded);
  if (copied > 0) ctx.count(name(), "weights copied (shared with FP32 layers)", copied);
  return true;
}

}  // namespace fulcrum::passes
