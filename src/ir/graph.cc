#include "ir/graph.h"

#include <queue>
#include <unordered_set>

#include "core/error.h"

namespace fulcrum::ir {

std::string TensorType::to_string() const {
  std::string out = dtype_name(dtype);
  if (!dims) return out + "[?]";
  std::vector<std::string> parts;
  for (const Dim& d : *dims)
    parts.push_back(d.is_fixed() ? std::to_string(d.value) : (d.param.empty() ? "?" : d.param));
  return fmt::format("{}[{}]", out, fmt::join(parts, ", "));
}

std::string Node::label() const {
  std::string op = domain.empty() ? op_type : domain + "." + op_type;
  return fmt::format("node '{}' ({})", name, op);
}

Status Node::parse_attributes() {
  schema = ops::find_schema(domain, op_type);
  if (schema == nullptr) return unimplemented("{}: op {} is not supported", label(), op_type);
  if (opset < schema->min_opset)
    return unimplemented("{}: {} before opset {} is not supported (model uses opset {})", label(), op_type,
                         schema->min_opset, opset);
  auto parsed = schema->parse(attrs, opset);
  if (!parsed.is_ok()) return parsed.status().with_context(label());
  typed_attrs = std::move(parsed).value();
  return Status::ok();
}

Result<Value*> Graph::add_value(const std::string& value_name) {
  if (by_name_.count(value_name)) return invalid_argument("tensor '{}' is defined twice", value_name);
  values_.push_back(std::unique_ptr<Value>(new Value(value_name)));
  Value* v = values_.back().get();
  by_name_[value_name] = v;
  return v;
}

Value* Graph::find_value(const std::string& value_name) const {
  auto it = by_name_.find(value_name);
  return it == by_name_.end() ? nullptr : it->second;
}

Node* Graph::add_node(std::unique_ptr<Node> node) {
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

std::vector<const Value*> Graph::constants() const {
  std::vector<const Value*> out;
  for (const auto& v : values_)
    if (v->is_constant()) out.push_back(v.get());
  return out;
}

Status Graph::sort_topologically() {
  std::unordered_map<const Node*, int> pending;
  std::unordered_map<const Value*, std::vector<Node*>> users;
  for (const auto& n : nodes_) {
    int count = 0;
    for (const Value* in : n->inputs)
      if (in != nullptr && in->producer != nullptr) {
        ++count;
        users[in].push_back(n.get());
      }
    pending[n.get()] = count;
  }
  // Kahn's algorithm; ties keep the file order so the printed graph reads like the model.
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < nodes_.size(); ++i) position[nodes_[i].get()] = i;
  auto later = [&](Node* a, Node* b) { return position[a] > position[b]; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later)> ready(later);
  for (const auto& n : nodes_)
    if (pending[n.get()] == 0) ready.push(n.get());
  std::vector<Node*> order;
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    order.push_back(n);
    for (const Value* out : n->outputs) {
      if (out == nullptr) continue;
      for (Node* user : users[out])
        if (--pending[user] == 0) ready.push(user);
    }
  }
  if (order.size() != nodes_.size()) {
    for (const auto& n : nodes_)
      if (pending[n.get()] > 0) return invalid_argument("{} is part of a cycle", n->label());
  }
  std::unordered_map<Node*, std::unique_ptr<Node>> owned;
  for (auto& n : nodes_) owned[n.get()] = std::move(n);
  nodes_.clear();
  for (Node* n : order) nodes_.push_back(std::move(owned[n]));
  return Status::ok();
}

}  // namespace fulcrum::ir
