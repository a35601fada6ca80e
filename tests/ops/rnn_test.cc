#include <cmath>

#include "op_test_util.h"

namespace fulcrum::testing {
namespace {

using ops::AttrValue;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Tensor none() { return Tensor(); }

void expect_error(const OpRun& r, StatusCode code, const std::string& needle) {
  ASSERT_EQ(r.status.code(), code) << r.status.to_string();
  EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
}

// h_t = x_t + h_{t-1}: an RNN with unit weights and the identity (Affine 1, 0) activation,
// so that which steps run, in which order, is visible in the outputs.
ops::Attributes summing_rnn(const std::string& direction) {
  return {{"hidden_size", AttrValue(int64_t{1})},
          {"direction", AttrValue(direction)},
          {"activations", AttrValue(std::vector<std::string>(direction == "bidirectional" ? 2 : 1, "Affine"))}};
}

TEST(RNN, OneStepMatchesHandComputation) {
  auto r =
      run_op("RNN",
             {make_tensor<float>({1, 1, 2}, {1.f, 2.f}), make_tensor<float>({1, 2, 2}, {0.1f, 0.2f, 0.3f, -0.1f}),
              make_tensor<float>({1, 2, 2}, {0.5f, 0.f, 0.f, 0.5f}),
              make_tensor<float>({1, 4}, {0.1f, 0.f, 0.f, -0.2f}), none(), make_tensor<float>({1, 1, 2}, {1.f, -1.f})},
             {{"hidden_size", AttrValue(int64_t{2})}}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // 0.1*1 + 0.2*2 + 0.5*1 + 0.1 = 1.1 and 0.3*1 - 0.1*2 + 0.5*(-1) - 0.2 = -0.6
  const std::vector<float> h{std::tanh(1.1f), std::tanh(-0.6f)};
  expect_near(r.outputs[0], {1, 1, 1, 2}, h);
  expect_near(r.outputs[1], {1, 1, 2}, h);
}

TEST(RNN, Float64InputsGiveFloat64Outputs) {
  auto one = make_tensor<double>({1, 1, 1}, {1.0});
  auto r = run_op("RNN", {make_tensor<double>({1, 1, 1}, {0.5}), one, one, none(), none(), one}, {}, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.outputs[1].dtype(), DType::kFloat64);
  EXPECT_NEAR(values_of<double>(r.outputs[1])[0], std::tanh(1.5), 1e-12);
}

TEST(RNN, BidirectionalRespectsSequenceLengths) {
  // X [seq 3, batch 2, 1]: batch 0 is 1, 2, 3 (length 3); batch 1 is 10, 20 (length 2).
  auto one = make_tensor<float>({2, 1, 1}, {1.f, 1.f});
  auto r = run_op("RNN",
                  {make_tensor<float>({3, 2, 1}, {1.f, 10.f, 2.f, 20.f, 3.f, 99.f}), one, one, none(),
                   make_tensor<int32_t>({2}, {3, 2})},
                  summing_rnn("bidirectional"), 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  // Y [seq, dir, batch, 1]: forward running sums; reverse sums from each sequence's own end.
  expect_near(r.outputs[0], {3, 2, 2, 1}, {1.f, 10.f, 6.f, 30.f, 3.f, 30.f, 5.f, 20.f, 6.f, 0.f, 3.f, 0.f});
  expect_near(r.outputs[1], {2, 2, 1}, {6.f, 30.f, 6.f, 30.f});
}

TEST(RNN, ReverseAndLayoutOneAreBatchFirst) {
  ops::Attributes attrs = summing_rnn("reverse");
  attrs["layout"] = AttrValue(int64_t{1});
  auto one = make_tensor<float>({1, 1, 1}, {1.f});
  // X [batch 2, seq 2, 1]; initial_h [batch 2, dir 1, 1].
  auto r = run_op("RNN",
                  {make_tensor<float>({2, 2, 1}, {1.f, 2.f, 10.f, 20.f}), one, one, none(), none(),
                   make_tensor<float>({2, 1, 1}, {100.f, 200.f})},
                  attrs, 2, 14);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[0], {2, 2, 1, 1}, {103.f, 102.f, 230.f, 220.f});
  expect_near(r.outputs[1], {2, 1, 1}, {103.f, 230.f});
}

TEST(RNN, ActivationParametersAreConsumedInOrderAndClipped) {
  // Forward: LeakyRelu(alpha 0.5); reverse: Affine(alpha 2, beta 3), which takes the second
  // alpha and the first beta. clip 3 bounds the input -4 to -3.
  ops::Attributes attrs{{"direction", AttrValue(std::string("bidirectional"))},
                        {"activations", AttrValue(std::vector<std::string>{"LeakyRelu", "Affine"})},
                        {"activation_alpha", AttrValue(std::vector<float>{0.5f, 2.f})},
                        {"activation_beta", AttrValue(std::vector<float>{3.f})}};
  auto x = make_tensor<float>({1, 1, 1}, {-4.f});
  auto w = make_tensor<float>({2, 1, 1}, {1.f, 1.f});
  auto r0 = make_tensor<float>({2, 1, 1}, {0.f, 0.f});
  auto plain = run_op("RNN", {x, w, r0}, attrs, 2);
  ASSERT_TRUE(plain.status.is_ok()) << plain.status.to_string();
  expect_near(plain.outputs[1], {2, 1, 1}, {-2.f, -5.f});
  attrs["clip"] = AttrValue(3.f);
  auto clipped = run_op("RNN", {x, w, r0}, attrs, 2);
  ASSERT_TRUE(clipped.status.is_ok()) << clipped.status.to_string();
  expect_near(clipped.outputs[1], {2, 1, 1}, {-1.5f, -3.f});
}

TEST(RNN, RejectsWrongWShape) {
  auto r = run_op("RNN",
                  {make_tensor<float>({1, 1, 2}, {1.f, 2.f}), make_tensor<float>({1, 2, 3}, std::vector<float>(6, 0.f)),
                   make_tensor<float>({1, 2, 2}, std::vector<float>(4, 0.f))},
                  {{"hidden_size", AttrValue(int64_t{2})}}, 2);
  expect_error(r, StatusCode::kInvalidArgument, "input 'W' has shape [1, 2, 3], expected [1, 2, 2]");
}

TEST(RNN, RejectsUnknownDirection) {
  auto one = make_tensor<float>({1, 1, 1}, {1.f});
  auto r = run_op("RNN", {one, one, one}, {{"direction", AttrValue(std::string("sideways"))}}, 2);
  expect_error(r, StatusCode::kInvalidArgument, "attribute 'direction'");
}

TEST(RNN, RejectsWeightsForTheWrongNumberOfDirections) {
  auto one = make_tensor<float>({1, 1, 1}, {1.f});
  auto r = run_op("RNN", {one, one, one}, {{"direction", AttrValue(std::string("bidirectional"))}}, 2);
  expect_error(r, StatusCode::kInvalidArgument, "input 'W' has 1 directions");
}

TEST(RNN, RejectsBadActivationsAndSequenceLengths) {
  auto one = make_tensor<float>({1, 1, 1}, {1.f});
  auto unknown = run_op("RNN", {one, one, one}, {{"activations", AttrValue(std::vector<std::string>{"Swish"})}});
  expect_error(unknown, StatusCode::kInvalidArgument, "unknown activation 'Swish'");
  auto count = run_op("RNN", {one, one, one}, {{"activations", AttrValue(std::vector<std::string>{"Tanh", "Tanh"})}});
  expect_error(count, StatusCode::kInvalidArgument, "attribute 'activations' has 2 entries, expected 1");
  auto lengths = run_op("RNN", {one, one, one, none(), make_tensor<int32_t>({1}, {2})});
  expect_error(lengths, StatusCode::kInvalidArgument, "input 'sequence_lens' has 2");
}

TEST(RNN, OpsetsBefore7AreUnimplemented) {
  auto one = make_tensor<float>({1, 1, 1}, {1.f});
  auto r = run_op("RNN", {one, one, one}, {}, 1, 6);
  EXPECT_EQ(r.status.code(), StatusCode::kUnimplemented) << r.status.to_string();
}

// GRU with hidden 1, input 1: W = (wz, wr, wh), R = (rz, rr, rh), B = (Wb z r h, Rb z r h).
OpRun run_gru_step(bool linear_before_reset) {
  return run_op(
      "GRU",
      {make_tensor<float>({1, 1, 1}, {2.f}), make_tensor<float>({1, 3, 1}, {0.5f, -1.f, 1.f}),
       make_tensor<float>({1, 3, 1}, {0.2f, 0.3f, 2.f}), make_tensor<float>({1, 6}, {0.f, 0.5f, 0.1f, 0.f, 0.f, -0.3f}),
       none(), make_tensor<float>({1, 1, 1}, {0.5f})},
      {{"linear_before_reset", AttrValue(int64_t{linear_before_reset})}}, 2);
}

TEST(GRU, OneStepMatchesHandComputation) {
  const double h0 = 0.5;
  const double z = sigmoid(0.5 * 2 + 0.2 * h0);
  const double r = sigmoid(-1.0 * 2 + 0.3 * h0 + 0.5);
  // Reset gate applied to Ht-1 before Rh: 1*2 + 2*(r*h0) - 0.3 + 0.1.
  const double h_default = std::tanh(2.0 + 2.0 * r * h0 - 0.3 + 0.1);
  auto plain = run_gru_step(false);
  ASSERT_TRUE(plain.status.is_ok()) << plain.status.to_string();
  const float expected = static_cast<float>((1 - z) * h_default + z * h0);
  expect_near(plain.outputs[0], {1, 1, 1, 1}, {expected});
  expect_near(plain.outputs[1], {1, 1, 1}, {expected});
  // linear_before_reset: reset gate applied after Rh and Rbh: 1*2 + r*(2*h0 - 0.3) + 0.1.
  const double h_linear = std::tanh(2.0 + r * (2.0 * h0 - 0.3) + 0.1);
  auto linear = run_gru_step(true);
  ASSERT_TRUE(linear.status.is_ok()) << linear.status.to_string();
  expect_near(linear.outputs[1], {1, 1, 1}, {static_cast<float>((1 - z) * h_linear + z * h0)});
}

TEST(GRU, RejectsWrongWShapeAndACellOutput) {
  auto x = make_tensor<float>({1, 1, 1}, {1.f});
  auto w3 = make_tensor<float>({1, 3, 1}, {1.f, 1.f, 1.f});
  auto bad = run_op("GRU", {x, make_tensor<float>({1, 4, 1}, {1.f, 1.f, 1.f, 1.f}), w3}, {}, 2);
  expect_error(bad, StatusCode::kInvalidArgument, "input 'W' has shape [1, 4, 1], expected [1, 3, 1]");
  auto three_outputs = run_op("GRU", {x, w3, w3}, {}, 3);
  expect_error(three_outputs, StatusCode::kInvalidArgument, "at most 2 outputs");
}

TEST(GRU, RejectsUnknownDirection) {
  auto x = make_tensor<float>({1, 1, 1}, {1.f});
  auto w3 = make_tensor<float>({1, 3, 1}, {1.f, 1.f, 1.f});
  auto r = run_op("GRU", {x, w3, w3}, {{"direction", AttrValue(std::string("backward"))}}, 2);
  expect_error(r, StatusCode::kInvalidArgument, "got 'backward'");
}

TEST(LSTM, OneStepWithPeepholesMatchesHandComputation) {
  // Gates in order i, o, f, c; peepholes i, o, f.
  auto r = run_op("LSTM",
                  {make_tensor<float>({1, 1, 1}, {1.f}), make_tensor<float>({1, 4, 1}, {0.5f, 1.f, -0.5f, 2.f}),
                   make_tensor<float>({1, 4, 1}, {0.1f, 0.2f, 0.3f, 0.4f}),
                   make_tensor<float>({1, 8}, {0.f, 0.1f, 0.f, 0.f, 0.f, 0.f, 0.2f, 0.f}), none(),
                   make_tensor<float>({1, 1, 1}, {1.f}), make_tensor<float>({1, 1, 1}, {0.5f}),
                   make_tensor<float>({1, 3}, {0.1f, 0.2f, 0.3f})},
                  {}, 3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  const double i = sigmoid(0.5 + 0.1 + 0.1 * 0.5);
  const double f = sigmoid(-0.5 + 0.3 + 0.2 + 0.3 * 0.5);
  const double c = f * 0.5 + i * std::tanh(2.0 + 0.4);
  const double o = sigmoid(1.0 + 0.1 + 0.2 + 0.2 * c);  // the output peephole sees the new cell
  const float h = static_cast<float>(o * std::tanh(c));
  expect_near(r.outputs[0], {1, 1, 1, 1}, {h});
  expect_near(r.outputs[1], {1, 1, 1}, {h});
  expect_near(r.outputs[2], {1, 1, 1}, {static_cast<float>(c)});
}

TEST(LSTM, InputForgetMakesTheForgetGateOneMinusTheInputGate) {
  // W: i 0, o 0, f 10, c 1. Uncoupled, f = sigmoid(10); coupled, f = 1 - sigmoid(0) = 0.5.
  auto x = make_tensor<float>({1, 1, 1}, {1.f});
  auto w = make_tensor<float>({1, 4, 1}, {0.f, 0.f, 10.f, 1.f});
  auto r0 = make_tensor<float>({1, 4, 1}, {0.f, 0.f, 0.f, 0.f});
  auto c0 = make_tensor<float>({1, 1, 1}, {2.f});
  auto r = run_op("LSTM", {x, w, r0, none(), none(), none(), c0}, {{"input_forget", AttrValue(int64_t{1})}}, 3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  expect_near(r.outputs[2], {1, 1, 1}, {static_cast<float>(0.5 * 2.0 + 0.5 * std::tanh(1.0))});
}

TEST(LSTM, RejectsWrongWShapeAndPeepholeShape) {
  auto x = make_tensor<float>({1, 1, 1}, {1.f});
  auto w4 = make_tensor<float>({1, 4, 1}, {1.f, 1.f, 1.f, 1.f});
  auto bad_w = run_op("LSTM", {x, make_tensor<float>({1, 3, 1}, {1.f, 1.f, 1.f}), w4}, {}, 2);
  expect_error(bad_w, StatusCode::kInvalidArgument, "input 'W' has shape [1, 3, 1], expected [1, 4, 1]");
  auto bad_p = run_op("LSTM", {x, w4, w4, none(), none(), none(), none(), make_tensor<float>({1, 2}, {1.f, 1.f})});
  expect_error(bad_p, StatusCode::kInvalidArgument, "input 'P' has shape [1, 2], expected [1, 3]");
}

TEST(LSTM, RejectsMismatchedHiddenSizeAndDirection) {
  auto x = make_tensor<float>({1, 1, 1}, {1.f});
  auto w4 = make_tensor<float>({1, 4, 1}, {1.f, 1.f, 1.f, 1.f});
  auto r = run_op("LSTM", {x, w4, w4}, {{"hidden_size", AttrValue(int64_t{2})}}, 2);
  expect_error(r, StatusCode::kInvalidArgument, "input 'W' has shape [1, 4, 1], expected [1, 8, 1]");
  auto dir = run_op("LSTM", {x, w4, w4}, {{"direction", AttrValue(std::string("both"))}}, 2);
  expect_error(dir, StatusCode::kInvalidArgument, "attribute 'direction'");
}

}  // namespace
}  // namespace fulcrum::testing
