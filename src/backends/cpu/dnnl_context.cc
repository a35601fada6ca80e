#include "backends/cpu/dnnl_context.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "core/parallel.h"

namespace fulcrum::backends::cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_stream() {
  thread_local dnnl::stream stream(dnnl_engine());
  return stream;
}

// The Debian oneDNN is built with DNNL_CPU_RUNTIME=OMP (libgomp): its parallel regions use
// the calling thread's OpenMP thread count, so this is the one knob. The reference kernels'
// std::thread pool runs only between oneDNN calls, but libgomp's idle workers spin for a
// while after each parallel region and compete with it (OMP_WAIT_POLICY=passive avoids
// that; one pool for both, OpenMP, would be the real fix).
ThreadScope::ThreadScope(int64_t threads) : saved_(omp_get_max_threads()) {
  omp_set_num_threads(static_cast<int>(threads > 0 ? threads : hardware_threads()));
}

ThreadScope::~ThreadScope() { omp_set_num_threads(saved_); }

dnnl::memory::dims to_dims(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

Tag plain_tag(size_t rank) {
  static constexpr Tag kTags[] = {Tag::undef,      Tag::a,           Tag::ab,          Tag::abc,      Tag::abcd,
                                  Tag::abcde,      Tag::abcdef,      Tag::abcdefg,     Tag::abcdefgh, Tag::abcdefghi,
                                  Tag::abcdefghij, Tag::abcdefghijk, Tag::abcdefghijkl};
  return rank < std::size(kTags) ? kTags[rank] : Tag::undef;
}

dnnl::memory::desc plain_desc(const Shape& shape) { return plain_desc(shape, plain_tag(shape.size())); }

dnnl::memory::desc plain_desc(const Shape& shape, Tag tag) {
  return dnnl::memory::desc(to_dims(shape), dnnl::memory::data_type::f32, tag);
}

dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, dnnl_engine(), const_cast<void*>(t.raw()));
}

void reorder(const dnnl::memory& src, const dnnl::memory& dst) {
  dnnl::reorder(src, dst).execute(dnnl_stream(), const_cast<dnnl::memory&>(src), const_cast<dnnl::memory&>(dst));
  dnnl_stream().wait();
}

dnnl::memory reorder_to(const dnnl::memory& src, const dnnl::memory::desc& want) {
  if (src.get_desc() == want) return src;
  dnnl::memory dst(want, dnnl_engine());
  reorder(src, dst);
  return dst;
}

void ExecArgs::add(int arg, const dnnl::memory& memory) {
  if (size_ == kCapacity) throw dnnl::error(dnnl_invalid_arguments, "too many primitive arguments");
  memories_[size_] = memory;
  args_[size_] = {arg, memory.get()};
  ++size_;
}

void ExecArgs::execute(const dnnl::primitive& primitive, dnnl::stream& stream) const {
  dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive.get(), stream.get(), size_, args_.data()),
                          "could not execute a primitive");
}

Tensor empty_float(Shape shape) {
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(1, shape_numel(shape))) * sizeof(float);
  void* data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (data == nullptr) throw std::bad_alloc();
  std::shared_ptr<const void> owner(data, [](const void* p) { std::free(const_cast<void*>(p)); });
  return Tensor::view(DType::kFloat32, std::move(shape), std::move(owner), data);
}

ValueInfo value_info(const ir::Node& node, size_t i) {
  ValueInfo info;
  if (i >= node.inputs.size() || node.inputs[i] == nullptr) return info;
  const ir::Value& v = *node.inputs[i];
  if (v.is_constant()) {
    info.constant = &v.constant;
    info.dtype = v.constant.dtype();
    info.rank = v.constant.rank();
    info.dims = v.constant.shape();
    return info;
  }
  info.dtype = v.type.dtype;
  if (v.type.dims) {
    info.rank = static_cast<int64_t>(v.type.dims->size());
    for (const ir::Dim& d : *v.type.dims) info.dims.push_back(d.is_fixed() ? d.value : -1);
  }
  return info;
}

}  // namespace fulcrum::backends::cpu
