// Reference kernel for GRU (gates z, r, h stacked in that order in W, R and B):
//   zt = f(Xt*(Wz^T) + Ht-1*(Rz^T) + Wbz + Rbz)
//   rt = f(Xt*(Wr^T) + Ht-1*(Rr^T) + Wbr + Rbr)
//   ht = g(Xt*(Wh^T) + (rt (.) Ht-1)*(Rh^T) + Rbh + Wbh)    linear_before_reset = 0
//   ht = g(Xt*(Wh^T) + rt (.) (Ht-1*(Rh^T) + Rbh) + Wbh)   linear_before_reset != 0
//   Ht = (1 - zt) (.) ht + zt (.) Ht-1
#include "backends/reference/rnn_common.h"

namespace fulcrum::backends::reference {
namespace {

Status gru_kernel(KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::GruAttrs>();
  FULCRUM_ASSIGN_OR_RETURN(rnn::RecurrentInputs in, rnn::read_inputs(ctx, attrs, 3, false));
  const int64_t hidden = in.hidden;
  auto step = [&](int64_t d, const double* x_t, rnn::CellState& state) {
    const ops::RnnActivation* acts = attrs.activations_of(d);
    const ops::RnnActivation &f = acts[0], &g = acts[1];
    const size_t n = state.h.size();
    const double* h_prev = state.h.data();
    std::vector<double> z(n), r(n), reset_h(n), h(n);
    for (int64_t j = 0; j < hidden; ++j) {
      const size_t u = static_cast<size_t>(j);
      z[u] = rnn::activate(f, attrs.clip, in.input_term(d, j, x_t) + in.recurrent_term(d, j, h_prev));
      r[u] = rnn::activate(f, attrs.clip, in.input_term(d, hidden + j, x_t) + in.recurrent_term(d, hidden + j, h_prev));
      reset_h[u] = r[u] * h_prev[u];
    }
    for (int64_t j = 0; j < hidden; ++j) {
      const size_t u = static_cast<size_t>(j);
      const int64_t row = 2 * hidden + j;
      const double recurrent = attrs.linear_before_reset ? r[u] * in.recurrent_term(d, row, h_prev)
                                                         : in.recurrent_term(d, row, reset_h.data());
      const double candidate = rnn::activate(g, attrs.clip, in.input_term(d, row, x_t) + recurrent);
      h[u] = (1.0 - z[u]) * candidate + z[u] * h_prev[u];
    }
    state.h = std::move(h);
  };
  return rnn::run_recurrence(ctx, attrs, in, step, false);
}

FULCRUM_REFERENCE_KERNEL(GRU, gru_kernel);

}  // namespace
}  // namespace fulcrum::backends::reference
