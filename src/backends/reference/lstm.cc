// Reference kernel for LSTM (gates i, o, f, c stacked in that order in W, R and B;
// peepholes i, o, f in P):
//   it = f(Xt*(Wi^T) + Ht-1*(Ri^T) + Pi (.) Ct-1 + Wbi + Rbi)
//   ft = f(Xt*(Wf^T) + Ht-1*(Rf^T) + Pf (.) Ct-1 + Wbf + Rbf)   (1 - it with input_forget)
//   ct = g(Xt*(Wc^T) + Ht-1*(Rc^T) + Wbc + Rbc)
//   Ct = ft (.) Ct-1 + it (.) ct
//   ot = f(Xt*(Wo^T) + Ht-1*(Ro^T) + Po (.) Ct + Wbo + Rbo)
//   Ht = ot (.) h(Ct)
// `clip` bounds the input of every activation, h's included, as the spec says; onnxruntime
// leaves h's input (Ct) unclipped, so its results differ where |Ct| > clip.
#include "backends/reference/rnn_common.h"

namespace fulcrum::backends::reference {
namespace {

enum Gate : int64_t { kInputGate = 0, kOutputGate = 1, kForgetGate = 2, kCellGate = 3 };

Status lstm_kernel(KernelContext& ctx) {
  const auto& attrs = ctx.attrs<ops::LstmAttrs>();
  FULCRUM_ASSIGN_OR_RETURN(rnn::RecurrentInputs in, rnn::read_inputs(ctx, attrs, 4, true));
  const int64_t hidden = in.hidden;
  auto step = [&](int64_t d, const double* x_t, rnn::CellState& state) {
    const ops::RnnActivation* acts = attrs.activations_of(d);
    const ops::RnnActivation &f = acts[0], &g = acts[1], &h_act = acts[2];
    const double* p = in.p.data() + d * 3 * hidden;  // Pi, Po, Pf
    const double* h_prev = state.h.data();
    std::vector<double> h(state.h.size()), c(state.c.size());
    for (int64_t j = 0; j < hidden; ++j) {
      const size_t u = static_cast<size_t>(j);
      auto gate_sum = [&](int64_t gate) {
        return in.input_term(d, gate * hidden + j, x_t) + in.recurrent_term(d, gate * hidden + j, h_prev);
      };
      const double c_prev = state.c[u];
      const double i = rnn::activate(f, attrs.clip, gate_sum(kInputGate) + p[j] * c_prev);
      // input_forget couples the gates as onnxruntime does (CIFG): the forget gate is 1 - it.
      const double forget = attrs.input_forget
                                ? 1.0 - i
                                : rnn::activate(f, attrs.clip, gate_sum(kForgetGate) + p[2 * hidden + j] * c_prev);
      const double cell = rnn::activate(g, attrs.clip, gate_sum(kCellGate));
      c[u] = forget * c_prev + i * cell;
      const double o = rnn::activate(f, attrs.clip, gate_sum(kOutputGate) + p[hidden + j] * c[u]);
      h[u] = o * rnn::activate(h_act, attrs.clip, c[u]);
    }
    state.h = std::move(h);
    state.c = std::move(c);
  };
  return rnn::run_recurrence(ctx, attrs, in, step, true);
}

FULCRUM_REFERENCE_KERNEL(LSTM, lstm_kernel);

}  // namespace
}  // namespace fulcrum::backends::reference
