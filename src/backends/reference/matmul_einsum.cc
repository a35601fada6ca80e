// Reference kernel for Einsum: the literal definition. Every label gets a size and, per
// input, a stride (the sum of the strides of the axes it names, which is how a repeated
// label reads a diagonal); each output element sums the product of the inputs over every
// value of the labels the output does not keep. A float contraction of two inputs without
// diagonals (attention's "bhid,bhjd->bhij") is the same sum arranged as a batched matrix
// product, and runs on gemm.h.
#include <algorithm>
#include <map>
#include <type_traits>
#include <vector>

#include "backends/reference/gemm.h"
#include "backends/reference/kernel.h"
#include "backends/reference/util.h"
#include "ops/matmul.h"

namespace fulcrum::backends::reference {
namespace {

// Letters are labels by their character code; the axes an ellipsis covers get labels
// kEllipsisBase + j, right-aligned across inputs (numpy broadcasting).
constexpr int kEllipsisBase = 256;

struct EinsumPlan {
  std::vector<int> labels;  // output labels first, in output order, then the summed ones
  size_t n_out = 0;
  std::vector<int64_t> sizes;                 // per label
  std::vector<std::vector<int64_t>> strides;  // [input][label]
  std::vector<std::vector<bool>> present;     // [input][label]: the input names the label
  bool diagonal = false;                      // some input names a label twice
  Shape y_shape;
};

// The label of every axis of each input.
Result<std::vector<std::vector<int>>> axis_labels(const ops::EinsumAttrs& a, const std::vector<const Tensor*>& in,
                                                  int64_t& ellipsis_rank) {
  std::vector<std::vector<int>> out;
  ellipsis_rank = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& term = a.inputs[i];
    const bool has_ellipsis = term.find(ops::EinsumAttrs::kEllipsis) != std::string::npos;
    const int64_t letters = static_cast<int64_t>(term.size()) - (has_ellipsis ? 1 : 0);
    const int64_t covered = in[i]->rank() - letters;
    if (covered < 0 || (!has_ellipsis && covered != 0))
      return invalid_argument("Einsum term '{}' does not fit input {} of shape {}", term, i,
                              shape_to_string(in[i]->shape()));
    ellipsis_rank = std::max(ellipsis_rank, has_ellipsis ? covered : 0);
    out.emplace_back();
    for (char c : term) {
      if (c != ops::EinsumAttrs::kEllipsis) {
        out.back().push_back(static_cast<unsigned char>(c));
        continue;
      }
      for (int64_t j = 0; j < covered; ++j) out.back().push_back(kEllipsisBase + static_cast<int>(j));
    }
  }
  // Right-align each input's ellipsis axes against the widest one.
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t covered = 0;
    for (int l : out[i]) covered += l >= kEllipsisBase;
    for (int& l : out[i])
      if (l >= kEllipsisBase) l += static_cast<int>(ellipsis_rank - covered);
  }
  return out;
}

Result<EinsumPlan> plan_einsum(const ops::EinsumAttrs& a, const std::vector<const Tensor*>& in) {
  int64_t ellipsis_rank = 0;
  FULCRUM_ASSIGN_OR_RETURN(auto axes, axis_labels(a, in, ellipsis_rank));
  std::map<int, int64_t> size;  // a size-1 axis broadcasts against any other size
  std::vector<int> order;
  for (size_t i = 0; i < in.size(); ++i)
    for (size_t d = 0; d < axes[i].size(); ++d) {
      const int l = axes[i][d];
      const int64_t s = in[i]->dim(static_cast<int64_t>(d));
      auto it = size.find(l);
      if (it == size.end()) {
        size[l] = s;
        order.push_back(l);
      } else if (it->second == 1) {
        it->second = s;
      } else if (s != 1 && s != it->second) {
        return invalid_argument("Einsum label '{}' has size {} in input {} but {} elsewhere",
                                l < kEllipsisBase ? std::string(1, static_cast<char>(l)) : std::string("..."), s, i,
                                it->second);
      }
    }
  EinsumPlan p;
  for (char c : a.output) {
    if (c != ops::EinsumAttrs::kEllipsis) {
      p.labels.push_back(static_cast<unsigned char>(c));
      continue;
    }
    for (int64_t j = 0; j < ellipsis_rank; ++j) p.labels.push_back(kEllipsisBase + static_cast<int>(j));
  }
  p.n_out = p.labels.size();
  for (int l : order)
    if (std::find(p.labels.begin(), p.labels.end(), l) == p.labels.end()) p.labels.push_back(l);
  for (int l : p.labels) p.sizes.push_back(size.at(l));
  p.y_shape.assign(p.sizes.begin(), p.sizes.begin() + static_cast<std::ptrdiff_t>(p.n_out));
  for (size_t i = 0; i < in.size(); ++i) {
    const std::vector<int64_t> st = ops::strides_of(in[i]->shape());
    std::vector<int64_t> per_label(p.labels.size(), 0);
    std::vector<bool> present(p.labels.size(), false);
    for (size_t d = 0; d < axes[i].size(); ++d) {
      const size_t li = static_cast<size_t>(std::find(p.labels.begin(), p.labels.end(), axes[i][d]) - p.labels.begin());
      p.diagonal = p.diagonal || present[li];
      present[li] = true;
      if (in[i]->dim(static_cast<int64_t>(d)) != 1) per_label[li] += st[d];  // size 1 broadcasts: stride 0
    }
    p.strides.push_back(std::move(per_label));
    p.present.push_back(std::move(present));
  }
  return p;
}

// Advances the odometer over labels [first, last), last fastest, keeping offsets in step.
void advance(const EinsumPlan& p, size_t first, size_t last, std::vector<int64_t>& index,
             std::vector<int64_t>& offsets) {
  for (size_t l = last; l-- > first;) {
    ++index[l];
    for (size_t i = 0; i < offsets.size(); ++i) offsets[i] += p.strides[i][l];
    if (index[l] < p.sizes[l]) return;
    for (size_t i = 0; i < offsets.size(); ++i) offsets[i] -= p.strides[i][l] * p.sizes[l];
    index[l] = 0;
  }
}

template <class T>
void run_einsum(const EinsumPlan& p, const std::vector<const Tensor*>& in, T* y) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  const size_t n_labels = p.labels.size();
  int64_t n_sum = 1;
  for (size_t l = p.n_out; l < n_labels; ++l) n_sum *= p.sizes[l];
  std::vector<const T*> data;
  for (const Tensor* t : in) data.push_back(t->data<T>());
  std::vector<int64_t> index(n_labels, 0), offsets(in.size(), 0);
  const int64_t n_y = shape_numel(p.y_shape);
  for (int64_t o = 0; o < n_y; ++o) {
    Acc acc = 0;
    for (int64_t s = 0; s < n_sum; ++s) {
      Acc prod = 1;
      for (size_t i = 0; i < data.size(); ++i) prod *= static_cast<Acc>(data[i][offsets[i]]);
      acc += prod;
      advance(p, p.n_out, n_labels, index, offsets);
    }
    y[o] = static_cast<T>(acc);
    advance(p, 0, p.n_out, index, offsets);
  }
}

// A row-major walk over `sizes` that keeps offset = sum(index * strides) in step.
struct Walker {
  std::vector<int64_t> sizes, strides, index;
  int64_t offset = 0;
  int64_t count() const { return shape_numel(sizes); }
  void next() {
    for (size_t d = sizes.size(); d-- > 0;) {
      ++index[d];
      offset += strides[d];
      if (index[d] < sizes[d]) return;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
};

// A walk over `labels` of the plan with the given per-label strides.
Walker walk(const EinsumPlan& p, const std::vector<size_t>& labels, const std::vector<int64_t>& strides) {
  Walker w;
  for (size_t l : labels) {
    w.sizes.push_back(p.sizes[l]);
    w.strides.push_back(strides[l]);
  }
  w.index.assign(labels.size(), 0);
  return w;
}

// The labels of a two-input contraction by role: batch (both inputs and the output), m (A
// and the output), n (B and the output), k (both inputs, summed), and the labels only one
// input names and the output drops (summed before the product).
struct Contraction {
  std::vector<size_t> batch, m, n, k, a_only, b_only;
};

Contraction classify(const EinsumPlan& p) {
  Contraction c;
  for (size_t l = 0; l < p.labels.size(); ++l) {
    const bool a = p.present[0][l], b = p.present[1][l], out = l < p.n_out;
    auto& group = a && b ? (out ? c.batch : c.k) : a ? (out ? c.m : c.a_only) : (out ? c.n : c.b_only);
    group.push_back(l);
  }
  return c;
}

// Copies input `i` into a dense tensor over `keep` (row-major), summing over `reduce`.
template <class T>
std::vector<T> gather(const EinsumPlan& p, const T* src, size_t i, const std::vector<size_t>& keep,
                      const std::vector<size_t>& reduce) {
  Walker outer = walk(p, keep, p.strides[i]);
  Walker inner = walk(p, reduce, p.strides[i]);
  const int64_t n_inner = inner.count();
  std::vector<T> out(static_cast<size_t>(outer.count()));
  for (T& v : out) {
    T acc = 0;
    for (int64_t r = 0; r < n_inner; ++r, inner.next()) acc += src[outer.offset + inner.offset];
    v = acc;
    outer.next();
  }
  return out;
}

template <class T>
void run_contraction(const EinsumPlan& p, const T* a, const T* b, T* y) {
  const Contraction c = classify(p);
  auto concat = [](std::vector<size_t> x, const std::vector<size_t>& more) {
    x.insert(x.end(), more.begin(), more.end());
    return x;
  };
  const std::vector<T> a2 = gather(p, a, 0, concat(concat(c.batch, c.m), c.k), c.a_only);  // [batch, M, K]
  const std::vector<T> b2 = gather(p, b, 1, concat(concat(c.batch, c.k), c.n), c.b_only);  // [batch, K, N]
  auto numel = [&](const std::vector<size_t>& ls) {
    int64_t n = 1;
    for (size_t l : ls) n *= p.sizes[l];
    return n;
  };
  const int64_t batches = numel(c.batch), m = numel(c.m), n = numel(c.n), k = numel(c.k);
  std::vector<T> prod(static_cast<size_t>(batches * m * n));
  parallel_for(batches, batches * m * n * k, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      gemm_serial<T>(false, false, m, n, k, a2.data() + t * m * k, k, b2.data() + t * k * n, n, prod.data() + t * m * n,
                     n);
  });
  // Scatter [batch, M, N] into the output's label order.
  std::vector<int64_t> y_strides(p.labels.size(), 0);
  const std::vector<int64_t> out_strides = ops::strides_of(p.y_shape);
  std::copy(out_strides.begin(), out_strides.end(), y_strides.begin());
  Walker w = walk(p, concat(concat(c.batch, c.m), c.n), y_strides);
  for (const T& v : prod) {
    y[w.offset] = v;
    w.next();
  }
}

Status einsum(KernelContext& ctx) {
  const auto& a = ctx.attrs<ops::EinsumAttrs>();
  if (a.inputs.size() != ctx.num_inputs())
    return invalid_argument("equation '{}' has {} input terms but the node has {} inputs", a.equation, a.inputs.size(),
                            ctx.num_inputs());
  std::vector<const Tensor*> in;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return invalid_argument("input {} is missing", i);
    in.push_back(&ctx.input(i));
    if (in.back()->dtype() != in[0]->dtype())
      return invalid_argument("inputs have different dtypes ({} and {})", dtype_name(in[0]->dtype()),
                              dtype_name(in.back()->dtype()));
  }
  if (in.empty()) return invalid_argument("Einsum needs at least one input");
  FULCRUM_ASSIGN_OR_RETURN(EinsumPlan p, plan_einsum(a, in));
  return visit_numeric(in[0]->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, in[0]->dtype(), p.y_shape);
    if constexpr (std::is_floating_point_v<T>) {
      if (in.size() == 2 && !p.diagonal) {
        run_contraction<T>(p, in[0]->data<T>(), in[1]->data<T>(), y.mutable_data<T>());
        return Status::ok();
      }
    }
    run_einsum<T>(p, in, y.mutable_data<T>());
    return Status::ok();
  });
}

FULCRUM_REFERENCE_KERNEL(Einsum, einsum);

}  // namespace
}  // namespace fulcrum::backends::reference
