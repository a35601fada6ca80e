// fulcrum.ReorderToBlocked / ReorderFromBlocked (ops/layout.h) on oneDNN's reorder: NCHW
// to nChw8c / nChw16c (a last partial block padded with zeros) and back, the blocked tensor
// being the IR's 5-D [N, ceil(C/b), H, W, b].
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"
#include "core/parallel.h"
#include "ops/layout.h"

namespace fulcrum::backends::cpu {
namespace {

using dnnl::memory;

struct ReorderEntry {
  dnnl::reorder prim;
  memory::desc src, dst;
  Shape y_shape;
};

class BlockReorderKernel : public Kernel {
 public:
  // `block`: the channels per block to write (ReorderToBlocked), or 0 (ReorderFromBlocked).
  explicit BlockReorderKernel(int64_t block) : to_blocked_(block > 0), block_(block) {}

  Status run(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const bool ok = x.dtype() == DType::kFloat32 &&
                    (to_blocked_ ? x.rank() == 4 : x.rank() == 5 && (x.dim(4) == 8 || x.dim(4) == 16));
    if (!ok)
      return invalid_argument("expected a float32 {} tensor, got {} {}",
                              to_blocked_ ? "[N, C, H, W]" : "blocked [N, C/b, H, W, b]", dtype_name(x.dtype()),
                              shape_to_string(x.shape()));
    ThreadScope threads(thread_limit());
    FULCRUM_ASSIGN_OR_RETURN(auto entry, cache_.get({x.shape()}, [&] { return make_entry(x.shape()); }));
    return catch_dnnl([&] {
      Tensor& y = ctx.allocate_output_uninitialized(0, DType::kFloat32, entry->y_shape);
      memory src = wrap(x, entry->src), dst = wrap(y, entry->dst);
      entry->prim.execute(dnnl_stream(), src, dst);
      dnnl_stream().wait();
      return Status::ok();
    });
  }

 private:
  Result<ReorderEntry> make_entry(const Shape& x) const {
    const int64_t block = to_blocked_ ? block_ : x[4];
    const Shape logical = to_blocked_ ? x : Shape{x[0], x[1] * block, x[2], x[3]};
    ReorderEntry e;
    const memory::desc plain = plain_desc(logical, Tag::nchw);
    const memory::desc blocked = plain_desc(logical, block == 16 ? Tag::nChw16c : Tag::nChw8c);
    e.src = to_blocked_ ? plain : blocked;
    e.dst = to_blocked_ ? blocked : plain;
    e.y_shape = to_blocked_ ? Shape{x[0], (x[1] + block - 1) / block, x[2], x[3], block} : logical;
    e.prim = dnnl::reorder(dnnl::reorder::primitive_desc(dnnl_engine(), e.src, dnnl_engine(), e.dst));
    return e;
  }

  bool to_blocked_;
  int64_t block_;
  ShapeCache<ReorderEntry> cache_;
};

KernelResult create_reorder(const ir::Node& node, const KernelConfig&) {
  if (value_info(node, 0).dtype != DType::kFloat32) return KernelResult(nullptr);
  const int64_t block = node.op_type == "ReorderToBlocked" ? node.attrs_as<ops::ReorderToBlockedAttrs>().block : 0;
  return KernelResult(std::make_unique<BlockReorderKernel>(block));
}

}  // namespace

FULCRUM_CPU_KERNEL("fulcrum", ReorderToBlocked, create_reorder);
FULCRUM_CPU_KERNEL("fulcrum", ReorderFromBlocked, create_reorder);

}  // namespace fulcrum::backends::cpu
