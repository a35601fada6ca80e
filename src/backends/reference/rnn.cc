// Reference kernel for RNN: Ht = f(Xt*(Wi^T) + Ht-1*(Ri^T) + Wbi + Rbi).
#include "backends/reference/rnn_common.h"

namespace fulcrum::backends::reference {
namespace {

Status rnn_kernel(KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::RnnAttrs>();
  FULCRUM_ASSIGN_OR_RETURN(rnn::RecurrentInputs in, rnn::read_inputs(ctx, attrs, 1, false));
  const int64_t hidden = in.hidden;
  auto step = [&](int64_t d, const double* x_t, rnn::CellState& state) {
    const ops::RnnActivation& f = attrs.activations_of(d)[0];
    std::vector<double> h(state.h.size());
    for (int64_t j = 0; j < hidden; ++j)
      h[static_cast<size_t>(j)] =
          rnn::activate(f, attrs.clip, in.input_term(d, j, x_t) + in.recurrent_term(d, j, state.h.data()));
    state.h = std::move(h);
  };
  return rnn::run_recurrence(ctx, attrs, in, step, false);
}

FULCRUM_REFERENCE_KERNEL(RNN, rnn_kernel);

}  // namespace
}  // namespace fulcrum::backends::reference
