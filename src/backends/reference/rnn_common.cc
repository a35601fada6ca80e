#include "backends/reference/rnn_common.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "backends/reference/util.h"
#include "core/float16.h"

namespace fulcrum::backends::reference::rnn {
namespace {

// [a, b, c] -> [b, a, c]: moves between the batch-first and sequence/direction-first layouts.
std::vector<double> swap_leading_axes(const std::vector<double>& v, int64_t a, int64_t b, int64_t c) {
  std::vector<double> out(v.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < c; ++k)
        out[static_cast<size_t>((j * a + i) * c + k)] = v[static_cast<size_t>((i * b + j) * c + k)];
  return out;
}

// Checks that input `slot` (named `name`) has X's dtype and shape `expected`; `meaning`
// spells the expected shape in the spec's terms for the error message.
Status check_input(const KernelContext& ctx, size_t slot, const char* name, DType dtype, const Shape& expected,
                   const char* meaning) {
  const Tensor& t = ctx.input(slot);
  if (t.dtype() != dtype)
    return invalid_argument("input '{}' has dtype {}, expected X's dtype {}", name, dtype_name(t.dtype()),
                            dtype_name(dtype));
  if (t.shape() != expected)
    return invalid_argument("input '{}' has shape {}, expected {} ({})", name, shape_to_string(t.shape()),
                            shape_to_string(expected), meaning);
  return Status::ok();
}

// Reads initial_h or initial_c into the [directions, batch, hidden] layout; zeros if absent.
Result<std::vector<double>> read_initial_state(const KernelContext& ctx, const ops::RecurrentAttrs& attrs,
                                               const RecurrentInputs& in, size_t slot, const char* name) {
  const int64_t d = in.directions, b = in.batch, h = in.hidden;
  if (!ctx.has_input(slot)) return std::vector<double>(static_cast<size_t>(d * b * h), 0.0);
  if (attrs.batch_first) {
    FULCRUM_RETURN_IF_ERROR(
        check_input(ctx, slot, name, in.dtype, {b, d, h}, "[batch_size, num_directions, hidden_size] for layout=1"));
    return swap_leading_axes(read_doubles(ctx.input(slot)), b, d, h);
  }
  FULCRUM_RETURN_IF_ERROR(
      check_input(ctx, slot, name, in.dtype, {d, b, h}, "[num_directions, batch_size, hidden_size]"));
  return read_doubles(ctx.input(slot));
}

Result<std::vector<int64_t>> read_lengths(const KernelContext& ctx, const RecurrentInputs& in) {
  if (!ctx.has_input(kSequenceLens)) return std::vector<int64_t>(static_cast<size_t>(in.batch), in.seq_length);
  const Tensor& t = ctx.input(kSequenceLens);
  if (is_float_dtype(t.dtype()) || t.dtype() == DType::kBool)
    return invalid_argument("input 'sequence_lens' must be an integer tensor, got {}", dtype_name(t.dtype()));
  if (t.shape() != Shape{in.batch})
    return invalid_argument("input 'sequence_lens' has shape {}, expected [{}] ([batch_size])",
                            shape_to_string(t.shape()), in.batch);
  std::vector<int64_t> lengths = to_int64_vector(t);
  for (size_t b = 0; b < lengths.size(); ++b)
    if (lengths[b] < 0 || lengths[b] > in.seq_length)
      return invalid_argument("input 'sequence_lens' has {} for batch entry {}, outside [0, seq_length={}]", lengths[b],
                              b, in.seq_length);
  return lengths;
}

// X's dims and the hidden size: the attribute when given, else R's last dim.
Status read_dims(const KernelContext& ctx, const ops::RecurrentAttrs& attrs, RecurrentInputs& in) {
  const char* required[] = {"X", "W", "R"};
  for (size_t slot : {kX, kW, kR})
    if (!ctx.has_input(slot)) return invalid_argument("input '{}' is required", required[slot]);
  const Tensor& x = ctx.input(kX);
  if (!is_float_dtype(x.dtype()))
    return invalid_argument("input 'X' must be a float tensor, got {}", dtype_name(x.dtype()));
  if (x.rank() != 3)
    return invalid_argument("input 'X' must have rank 3 ({}), got shape {}",
                            attrs.batch_first ? "[batch_size, seq_length, input_size] for layout=1"
                                              : "[seq_length, batch_size, input_size]",
                            shape_to_string(x.shape()));
  in.dtype = x.dtype();
  in.seq_length = attrs.batch_first ? x.dim(1) : x.dim(0);
  in.batch = attrs.batch_first ? x.dim(0) : x.dim(1);
  in.input_size = x.dim(2);
  in.directions = attrs.num_directions();
  const Tensor& r = ctx.input(kR);
  if (r.rank() != 3)
    return invalid_argument("input 'R' must have rank 3 ([num_directions, gates*hidden_size, hidden_size]), got {}",
                            shape_to_string(r.shape()));
  in.hidden = attrs.hidden_size > 0 ? attrs.hidden_size : r.dim(2);
  if (ctx.input(kW).rank() == 3 && ctx.input(kW).dim(0) != in.directions)
    return invalid_argument("input 'W' has {} directions (dim 0) but attribute 'direction' asks for {}",
                            ctx.input(kW).dim(0), in.directions);
  return Status::ok();
}

size_t at(int64_t i) { return static_cast<size_t>(i); }

// The outputs in the sequence-first layout: Y [seq, dirs, batch, hidden], Y_h and Y_c
// [dirs, batch, hidden].
struct Sequences {
  std::vector<double> y, y_h, y_c;
};

// Runs direction d over batch entry b's valid steps, recording each h in Y and the last
// state in Y_h (and Y_c). Steps past the sequence's length keep Y's zeros.
void run_sequence(const RecurrentInputs& in, const CellStep& step, int64_t d, int64_t b, bool reverse, bool with_cell,
                  Sequences& out) {
  const int64_t batch = in.batch, hidden = in.hidden, dirs = in.directions;
  const size_t state_at = at((d * batch + b) * hidden);
  CellState state;
  state.h.assign(in.initial_h.begin() + state_at, in.initial_h.begin() + state_at + at(hidden));
  if (with_cell) state.c.assign(in.initial_c.begin() + state_at, in.initial_c.begin() + state_at + at(hidden));
  const int64_t length = in.lengths[at(b)];
  for (int64_t s = 0; s < length; ++s) {
    const int64_t t = reverse ? length - 1 - s : s;
    step(d, in.x.data() + (t * batch + b) * in.input_size, state);
    std::copy(state.h.begin(), state.h.end(), out.y.begin() + ((t * dirs + d) * batch + b) * hidden);
  }
  // An empty sequence has no last state: Y_h and Y_c stay zero, as in onnxruntime.
  if (length == 0) return;
  std::copy(state.h.begin(), state.h.end(), out.y_h.begin() + state_at);
  if (with_cell) std::copy(state.c.begin(), state.c.end(), out.y_c.begin() + state_at);
}

// Y from [seq, dirs, batch, hidden] to layout=1's [batch, seq, dirs, hidden].
std::vector<double> batch_first_y(const RecurrentInputs& in, const std::vector<double>& y) {
  const int64_t seq = in.seq_length, batch = in.batch, hidden = in.hidden, dirs = in.directions;
  std::vector<double> out(y.size());
  for (int64_t t = 0; t < seq; ++t)
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(y.begin() + ((t * dirs + d) * batch + b) * hidden, hidden,
                    out.begin() + ((b * seq + t) * dirs + d) * hidden);
  return out;
}

}  // namespace

double RecurrentInputs::input_term(int64_t d, int64_t row, const double* x_t) const {
  const double* w_row = w.data() + (d * gates * hidden + row) * input_size;
  double sum = b[static_cast<size_t>(d * 2 * gates * hidden + row)];
  for (int64_t k = 0; k < input_size; ++k) sum += w_row[k] * x_t[k];
  return sum;
}

double RecurrentInputs::recurrent_term(int64_t d, int64_t row, const double* h) const {
  const double* r_row = r.data() + (d * gates * hidden + row) * hidden;
  double sum = b[static_cast<size_t>(d * 2 * gates * hidden + gates * hidden + row)];
  for (int64_t k = 0; k < hidden; ++k) sum += r_row[k] * h[k];
  return sum;
}

Result<RecurrentInputs> read_inputs(const KernelContext& ctx, const ops::RecurrentAttrs& attrs, int64_t gates,
                                    bool is_lstm) {
  const size_t max_inputs = is_lstm ? kP + 1 : kInitialH + 1;
  if (ctx.num_inputs() > max_inputs)
    return invalid_argument("the op takes at most {} inputs, got {}", max_inputs, ctx.num_inputs());
  RecurrentInputs in;
  in.gates = gates;
  FULCRUM_RETURN_IF_ERROR(read_dims(ctx, attrs, in));
  const int64_t d = in.directions, gh = gates * in.hidden;
  const std::string w_meaning = fmt::format("[num_directions, {}*hidden_size, input_size]", gates);
  const std::string r_meaning = fmt::format("[num_directions, {}*hidden_size, hidden_size]", gates);
  FULCRUM_RETURN_IF_ERROR(check_input(ctx, kW, "W", in.dtype, {d, gh, in.input_size}, w_meaning.c_str()));
  FULCRUM_RETURN_IF_ERROR(check_input(ctx, kR, "R", in.dtype, {d, gh, in.hidden}, r_meaning.c_str()));
  in.x = read_doubles(ctx.input(kX));
  if (attrs.batch_first) in.x = swap_leading_axes(in.x, in.batch, in.seq_length, in.input_size);
  in.w = read_doubles(ctx.input(kW));
  in.r = read_doubles(ctx.input(kR));
  in.b.assign(static_cast<size_t>(d * 2 * gh), 0.0);
  if (ctx.has_input(kB)) {
    const std::string meaning = fmt::format("[num_directions, {}*hidden_size]", 2 * gates);
    FULCRUM_RETURN_IF_ERROR(check_input(ctx, kB, "B", in.dtype, {d, 2 * gh}, meaning.c_str()));
    in.b = read_doubles(ctx.input(kB));
  }
  FULCRUM_ASSIGN_OR_RETURN(in.lengths, read_lengths(ctx, in));
  FULCRUM_ASSIGN_OR_RETURN(in.initial_h, read_initial_state(ctx, attrs, in, kInitialH, "initial_h"));
  if (!is_lstm) return in;
  FULCRUM_ASSIGN_OR_RETURN(in.initial_c, read_initial_state(ctx, attrs, in, kInitialC, "initial_c"));
  in.p.assign(static_cast<size_t>(d * 3 * in.hidden), 0.0);
  if (ctx.has_input(kP)) {
    FULCRUM_RETURN_IF_ERROR(check_input(ctx, kP, "P", in.dtype, {d, 3 * in.hidden}, "[num_directions, 3*hidden_size]"));
    in.p = read_doubles(ctx.input(kP));
  }
  return in;
}

double activate(const ops::RnnActivation& act, const std::optional<float>& clip, double x) {
  if (clip) x = std::clamp(x, -static_cast<double>(*clip), static_cast<double>(*clip));
  const double alpha = act.alpha, beta = act.beta;
  switch (act.kind) {
    case ops::RnnActivationKind::kRelu: return std::max(0.0, x);
    case ops::RnnActivationKind::kTanh: return std::tanh(x);
    case ops::RnnActivationKind::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ops::RnnActivationKind::kAffine: return alpha * x + beta;
    case ops::RnnActivationKind::kLeakyRelu: return x >= 0 ? x : alpha * x;
    // ">=" as the recurrent ops' spec writes it (the ThresholdedRelu op itself uses ">").
    case ops::RnnActivationKind::kThresholdedRelu: return x >= alpha ? x : 0.0;
    case ops::RnnActivationKind::kScaledTanh: return alpha * std::tanh(beta * x);
    case ops::RnnActivationKind::kHardSigmoid: return std::clamp(alpha * x + beta, 0.0, 1.0);
    case ops::RnnActivationKind::kElu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    case ops::RnnActivationKind::kSoftsign: return x / (1.0 + std::fabs(x));
    // log(1 + e^x) without overflowing e^x for large x.
    case ops::RnnActivationKind::kSoftplus: return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

Status run_recurrence(KernelContext& ctx, const ops::RecurrentAttrs& attrs, const RecurrentInputs& in,
                      const CellStep& step, bool with_cell) {
  const size_t max_outputs = with_cell ? 3 : 2;
  if (ctx.num_outputs() > max_outputs)
    return invalid_argument("the op has at most {} outputs, got {}", max_outputs, ctx.num_outputs());
  const int64_t seq = in.seq_length, batch = in.batch, hidden = in.hidden, dirs = in.directions;
  Sequences out{std::vector<double>(at(seq * dirs * batch * hidden), 0.0),
                std::vector<double>(at(dirs * batch * hidden), 0.0),
                std::vector<double>(at(dirs * batch * hidden), 0.0)};
  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = attrs.direction == ops::RnnDirection::kReverse || d == 1;
    for (int64_t b = 0; b < batch; ++b) run_sequence(in, step, d, b, reverse, with_cell, out);
  }
  if (ctx.wants_output(0)) {
    if (attrs.batch_first) {
      FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 0, in.dtype, {batch, seq, dirs, hidden}, batch_first_y(in, out.y)));
    } else {
      FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 0, in.dtype, {seq, dirs, batch, hidden}, out.y));
    }
  }
  const Shape state_shape = attrs.batch_first ? Shape{batch, dirs, hidden} : Shape{dirs, batch, hidden};
  auto final_state = [&](const std::vector<double>& v) {
    return attrs.batch_first ? swap_leading_axes(v, dirs, batch, hidden) : v;
  };
  if (ctx.wants_output(1)) FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 1, in.dtype, state_shape, final_state(out.y_h)));
  if (with_cell && ctx.wants_output(2))
    FULCRUM_RETURN_IF_ERROR(write_doubles(ctx, 2, in.dtype, state_shape, final_state(out.y_c)));
  return Status::ok();
}

}  // namespace fulcrum::backends::reference::rnn
