#include "locus/transforms/surgery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "locus/core/objective.hpp"
#include "testing/random_data.hpp"

namespace locus::transforms {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kEps = std::numeric_limits<double>::epsilon();

bool bitwise_equal(const VectorXd& a, const VectorXd& b) {
  return a.size() == b.size() && (a.array() == b.array()).all();
}

// A bound M on every intermediate value of the forward pass at the rows of x, from
// |sigma(z)| <= |z| + 2 (every activation of core/activation.hpp: softplus, g and gelu grow at
// most like |z| plus a constant <= 2) and |W h + b|_inf <= |W|_inf |h|_inf + |b|_inf, with the
// error propagated through activations of Lipschitz constant <= 2 (g: sigmoid(4x)' <= 1 plus
// softplus' <= 1). A transform that reorders or rescales sums changes each layer's values by a few
// eps times the magnitudes summed, and later layers amplify that by at most 2 |W|_inf each; so
// 64 eps M, with M built with the factor 2, bounds the change of f.
double forward_bound(const Mlp& model, const VectorXd& theta, const MatrixXd& x) {
  double m = x.cwiseAbs().maxCoeff();
  for (int k = 0; k < model.n_layers(); ++k) {
    const double w = model.weight(theta, k).cwiseAbs().rowwise().sum().maxCoeff();
    const double b = model.has_bias(k) ? model.bias(theta, k).cwiseAbs().maxCoeff() : 0.0;
    m = 2.0 * w * m + b + 2.0;
  }
  return m * std::max(1.0, model.output_scale());
}

double function_tolerance(const Mlp& model, const VectorXd& theta, const MatrixXd& x) {
  return 64.0 * kEps * forward_bound(model, theta, x);
}

double max_abs_diff(const MatrixXd& a, const MatrixXd& b) { return (a - b).cwiseAbs().maxCoeff(); }

// The deep biased and unbiased nets of the acceptance criteria: [3,5,4,2] with biases on every
// layer, on none, and on alternate layers, for every activation.
struct Net {
  Mlp model;
  VectorXd theta;
};
std::vector<Net> deep_nets(bool mean_field = false) {
  std::vector<Net> nets;
  const std::vector<std::vector<bool>> biases = {{}, {false, false, false}, {true, false, true}};
  std::uint64_t seed = 1;
  for (Activation a : all_activations())
    for (const auto& bias : biases) {
      Mlp m({.widths = {3, 5, 4, 2}, .activation = a, .bias = bias, .mean_field = mean_field});
      // Normal weights with nonzero biases, so that bias handling is exercised.
      VectorXd t = m.init_parameters({.scheme = InitScheme::normal, .seed = seed++, .std = 0.7});
      nets.push_back({std::move(m), std::move(t)});
    }
  return nets;
}

const MatrixXd& inputs() {
  static const MatrixXd x = testing::random_data(40, 3, 2, /*seed=*/99).x;
  return x;
}

void expect_same_function(const Mlp& a, const VectorXd& ta, const Mlp& b, const VectorXd& tb,
                          const std::string& what) {
  const MatrixXd& x = inputs();
  const double tol = function_tolerance(a, ta, x);
  EXPECT_LE(max_abs_diff(a.predict(ta, x), b.predict(tb, x)), tol)
      << what << " on " << a.describe() << " -> " << b.describe();
}

TEST(Surgery, SplitPreservesFunctionAndLayout) {
  const std::vector<std::vector<double>> fraction_sets = {
      {0.3, 0.7}, {0.5, -0.25, 0.75}, {1.5, -0.5}, {0.0, 1.0}};
  for (const Net& n : deep_nets())
    for (int layer = 1; layer <= 2; ++layer)
      for (const auto& f : fraction_sets) {
        const Index j = 1;
        const Surgery s = split_neuron(n.model, n.theta, {layer, j}, f);
        const Index h = n.model.spec().widths[static_cast<size_t>(layer)];
        ASSERT_EQ(s.model.spec().widths[static_cast<size_t>(layer)],
                  h + static_cast<Index>(f.size()) - 1);
        EXPECT_EQ(s.model.activation(), n.model.activation());
        for (int k = 0; k < 3; ++k) EXPECT_EQ(s.model.has_bias(k), n.model.has_bias(k));
        expect_same_function(n.model, n.theta, s.model, s.theta, "split");
        // Copies share the incoming weights and bias; outgoing = f_c * original, bit for bit.
        const NeuronWeights before = neuron_weights(n.model, n.theta, {layer, j});
        for (size_t c = 0; c < f.size(); ++c) {
          const Index at = c == 0 ? j : h + static_cast<Index>(c) - 1;
          const NeuronWeights w = neuron_weights(s.model, s.theta, {layer, at});
          EXPECT_TRUE(bitwise_equal(w.incoming, before.incoming));
          EXPECT_EQ(w.bias, before.bias);
          EXPECT_TRUE(bitwise_equal(w.outgoing, VectorXd(f[c] * before.outgoing)));
        }
      }
}

// Mean-field nets: splitting or growing the last hidden layer changes s = 1/h_L, which the
// transforms compensate in W_{L+1} and b_{L+1}.
TEST(Surgery, MeanFieldNetsKeepTheirFunction) {
  for (const Net& n : deep_nets(/*mean_field=*/true)) {
    const Surgery s = split_neuron(n.model, n.theta, {2, 3}, {0.4, 0.6});
    expect_same_function(n.model, n.theta, s.model, s.theta, "mean-field split");
    const Surgery g = grow(n.model, n.theta, {6, 7});
    expect_same_function(n.model, n.theta, g.model, g.theta, "mean-field grow");
    const ShrinkResult back = shrink(g.model, g.theta);
    EXPECT_EQ(back.model.spec().widths, n.model.spec().widths);
    expect_same_function(n.model, n.theta, back.model, back.theta, "mean-field shrink");
  }
}

TEST(Surgery, ZeroNeuronsAndGroupsPreserveFunction) {
  for (const Net& n : deep_nets())
    for (int layer = 1; layer <= 2; ++layer) {
      const Index in = n.model.layer(layer - 1).in;
      const Index out = n.model.layer(layer).out;
      const VectorXd w = VectorXd::LinSpaced(in, -1.0, 2.0);
      const double b = n.model.has_bias(layer - 1) ? 0.8 : 0.0;
      const Surgery z = add_zero_neuron(n.model, n.theta, layer, {.incoming = w, .bias = b});
      expect_same_function(n.model, n.theta, z.model, z.theta, "zero neuron");
      const NeuronWeights added =
          neuron_weights(z.model, z.theta, {layer, z.model.layer(layer).in - 1});
      EXPECT_TRUE(bitwise_equal(added.incoming, w));
      EXPECT_EQ(added.bias, b);
      EXPECT_TRUE((added.outgoing.array() == 0.0).all());
      // Removing it again gives theta back bit for bit.
      const Surgery r = remove_neuron(z.model, z.theta, {layer, z.model.layer(layer).in - 1});
      EXPECT_TRUE(bitwise_equal(r.theta, n.theta));
      // A zero group of 3 whose outgoing rows sum to 0 up to rounding (0.7 + 0.3 is not exactly
      // 1 in binary; the check allows 4 k eps).
      MatrixXd a(out, 3);
      for (Index i = 0; i < out; ++i) a.row(i) << 0.7 + i, 0.3, -1.0 - i;
      const Surgery g = add_zero_group(n.model, n.theta, layer, w, b, a);
      expect_same_function(n.model, n.theta, g.model, g.theta, "zero group");
      EXPECT_EQ(g.model.layer(layer).in, n.model.layer(layer).in + 3);
    }
}

TEST(Surgery, PermutationRoundTripIsBitwise) {
  for (const Net& n : deep_nets())
    for (int layer = 1; layer <= 2; ++layer) {
      const Index h = n.model.layer(layer - 1).out;
      std::vector<Index> p(static_cast<size_t>(h));
      for (Index i = 0; i < h; ++i) p[static_cast<size_t>(i)] = (3 * i + 1) % h;  // h = 5 or 4
      if (h == 4) p = {2, 0, 3, 1};
      const Surgery s = permute_neurons(n.model, n.theta, layer, p);
      expect_same_function(n.model, n.theta, s.model, s.theta, "permutation");
      // New neuron i is old neuron p[i].
      for (Index i = 0; i < h; ++i) {
        const NeuronWeights a = neuron_weights(s.model, s.theta, {layer, i});
        const NeuronWeights b =
            neuron_weights(n.model, n.theta, {layer, p[static_cast<size_t>(i)]});
        EXPECT_TRUE(bitwise_equal(a.incoming, b.incoming) && a.bias == b.bias &&
                    bitwise_equal(a.outgoing, b.outgoing));
      }
      const Surgery back = permute_neurons(s.model, s.theta, layer, inverse_permutation(p));
      EXPECT_TRUE(bitwise_equal(back.theta, n.theta));
    }
}

TEST(Surgery, SplitThenMergeGivesTheOriginal) {
  for (const Net& n : deep_nets())
    for (int layer = 1; layer <= 2; ++layer) {
      const Index h = n.model.layer(layer - 1).out;
      // 1/2 + 1/2: both products and their sum are exact, so the round trip is bit for bit.
      const Surgery s = split_neuron(n.model, n.theta, {layer, 2}, {0.5, 0.5});
      const Surgery m = merge_neurons(s.model, s.theta, layer, 2, h);
      EXPECT_TRUE(bitwise_equal(m.theta, n.theta));
      // 0.3 a + 0.7 a = a (1 + delta) with |delta| <= 2 eps: the outgoing weights to round-off.
      const Surgery s2 = split_neuron(n.model, n.theta, {layer, 2}, {0.3, 0.7});
      const Surgery m2 = merge_neurons(s2.model, s2.theta, layer, 2, h);
      ASSERT_EQ(m2.theta.size(), n.theta.size());
      EXPECT_LE((m2.theta - n.theta).cwiseAbs().maxCoeff(),
                2.0 * kEps * n.theta.cwiseAbs().maxCoeff());
      // shrink finds the duplicate by itself.
      const ShrinkResult r = shrink(s.model, s.theta);
      EXPECT_TRUE(bitwise_equal(r.theta, n.theta));
      EXPECT_EQ(r.merged[static_cast<size_t>(layer - 1)], 1);
    }
}

TEST(Surgery, GrowThenShrinkIsBitwise) {
  for (const Net& n : deep_nets()) {
    const Surgery g = grow(n.model, n.theta, {7, 6});  // two and two extra zero-type neurons
    EXPECT_EQ(g.model.spec().widths, (std::vector<Index>{3, 7, 6, 2}));
    expect_same_function(n.model, n.theta, g.model, g.theta, "grow");
    const ShrinkResult r = shrink(g.model, g.theta);
    EXPECT_TRUE(bitwise_equal(r.theta, n.theta)) << n.model.describe();
    // The two zero-incoming neurons of a layer are duplicates: one merges, then it is removed.
    EXPECT_EQ(r.merged, (std::vector<Index>{1, 1}));
    EXPECT_EQ(r.removed, (std::vector<Index>{1, 1}));
  }
}

// A zero column in layer 2 is only revealed after layer 2's zero-outgoing neuron is removed:
// shrink's repeated passes catch it (a neuron of layer 1 whose only nonzero outgoing weight goes
// to a removed neuron).
TEST(Surgery, ShrinkRepeatsUntilNothingChanges) {
  const Mlp m({.widths = {3, 3, 3, 1}, .activation = Activation::tanh});
  VectorXd t = m.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  const NeuronIndices out20 = neuron_indices(m, {2, 0});
  t[out20.outgoing[0]] = 0.0;  // neuron (2, 0) is zero-type
  const NeuronIndices out11 = neuron_indices(m, {1, 1});
  t[out11.outgoing[1]] = 0.0;  // neuron (1, 1) feeds only (2, 0)
  t[out11.outgoing[2]] = 0.0;
  const ShrinkResult r = shrink(m, t);
  EXPECT_EQ(r.model.spec().widths, (std::vector<Index>{3, 2, 2, 1}));
  EXPECT_EQ(r.removed, (std::vector<Index>{1, 1}));
  expect_same_function(m, t, r.model, r.theta, "shrink");
}

// After a split with fractions f, copy c's activation equals the original's, so
// dL/d(outgoing of c) = dL/d(outgoing of j) before the split and dL/d(incoming of c) =
// f_c dL/d(incoming of j) before (the back-propagated error carries the factor f_c).
TEST(Surgery, SplitGradientRelations) {
  const Dataset data = testing::random_data(30, 3, 2, /*seed=*/5);
  const std::vector<double> f = {0.2, -0.3, 1.1};
  for (const Net& n : deep_nets())
    for (int layer = 1; layer <= 2; ++layer) {
      const Surgery s = split_neuron(n.model, n.theta, {layer, 0}, f);
      const Objective before(n.model, data), after(s.model, data);
      const VectorXd g0 = before.gradient(n.theta), g1 = after.gradient(s.theta);
      // Each gradient entry is 2 sum_i r_i * (a product of activations and weights) over d
      // points; the residuals change by at most the function tolerance delta_f, and each term
      // carries a few eps of rounding, so entries move by <= 2 d (delta_f + 64 eps (M + |y|)) M.
      const double m = forward_bound(n.model, n.theta, data.x);
      const double tol = 2.0 * 30 *
                         (function_tolerance(n.model, n.theta, data.x) +
                          64.0 * kEps * (m + data.y.cwiseAbs().maxCoeff())) *
                         m;
      const NeuronIndices j0 = neuron_indices(n.model, {layer, 0});
      const Index h = n.model.layer(layer - 1).out;
      for (size_t c = 0; c < f.size(); ++c) {
        const Index at = c == 0 ? 0 : h + static_cast<Index>(c) - 1;
        const NeuronIndices jc = neuron_indices(s.model, {layer, at});
        EXPECT_LE((g1(jc.outgoing) - g0(j0.outgoing)).cwiseAbs().maxCoeff(), tol);
        EXPECT_LE((g1(jc.incoming) - f[c] * g0(j0.incoming)).cwiseAbs().maxCoeff(), tol);
        if (jc.bias >= 0) {
          EXPECT_NEAR(g1[jc.bias], f[c] * g0[j0.bias], tol);
        }
      }
    }
}

// The index map against the documented layout: W row-major (out x in), then b, layer by layer.
TEST(Surgery, NeuronIndicesFollowTheLayout) {
  const Mlp m({.widths = {3, 5, 4, 2}, .bias = {true, false, true}});
  const NeuronIndices a = neuron_indices(m, {1, 2});
  EXPECT_EQ(a.incoming, (std::vector<Index>{6, 7, 8}));  // W_1 is 5 x 3 at offset 0
  EXPECT_EQ(a.bias, 15 + 2);                             // b_1 after W_1's 15 entries
  // W_2 (4 x 5, no bias) starts at 20: column 2 = 20 + 5 i + 2.
  EXPECT_EQ(a.outgoing, (std::vector<Index>{22, 27, 32, 37}));
  const NeuronIndices b = neuron_indices(m, {2, 3});
  EXPECT_EQ(b.incoming, (std::vector<Index>{35, 36, 37, 38, 39}));
  EXPECT_EQ(b.bias, -1);
  EXPECT_EQ(b.outgoing, (std::vector<Index>{40 + 3, 40 + 4 + 3}));  // W_3 (2 x 4) at 40
  // Every weight of the network belongs to exactly one neuron's incoming/bias list, except the
  // output bias.
  std::vector<int> hits(static_cast<size_t>(m.n_params()), 0);
  for (int layer = 1; layer <= 2; ++layer)
    for (Index j = 0; j < m.layer(layer - 1).out; ++j) {
      const NeuronIndices ix = neuron_indices(m, {layer, j});
      for (Index i : ix.incoming) ++hits[static_cast<size_t>(i)];
      if (ix.bias >= 0) ++hits[static_cast<size_t>(ix.bias)];
    }
  for (Index j = 0; j < 4; ++j)
    for (Index i : neuron_indices(m, {2, j}).outgoing) ++hits[static_cast<size_t>(i)];
  for (Index i = 0; i < m.n_params(); ++i)
    EXPECT_EQ(hits[static_cast<size_t>(i)], i < m.layer(2).bias_offset ? 1 : 0) << i;
}

template <class F>
void expect_invalid(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Surgery, ErrorsNameTheInput) {
  const Mlp m(
      {.widths = {3, 5, 4, 2}, .activation = Activation::tanh, .bias = {false, true, true}});
  const VectorXd t = m.init_parameters({.seed = 2});
  expect_invalid(
      [&] {
        split_neuron(m, t, {0, 1}, {0.5, 0.5});
      },
      "hidden layers of [3,5,4,2] tanh are 1..2");
  expect_invalid([&] { split_neuron(m, t, {3, 1}, {0.5, 0.5}); }, "layer 3 is out of range");
  expect_invalid(
      [&] {
        split_neuron(m, t, {1, 5}, {0.5, 0.5});
      },
      "neuron 5 is out of range: hidden layer 1 has neurons 0..4");
  expect_invalid([&] { split_neuron(m, t, {1, -1}, {0.5, 0.5}); }, "neuron -1");
  expect_invalid([&] { split_neuron(m, t, {1, 0}, {0.5, 0.4}); }, "sum to 0.9");
  expect_invalid([&] { split_neuron(m, t, {1, 0}, {1.0}); }, "at least 2");
  expect_invalid([&] { split_neuron(m, t, {1, 0}, {NAN, 1.0}); }, "fraction 1 is nan");
  expect_invalid([&] { split_neuron(m, VectorXd(t.head(5)), {1, 0}, {0.5, 0.5}); }, "5");
  VectorXd bad = t;
  bad[3] = INFINITY;
  expect_invalid([&] { split_neuron(m, bad, {1, 0}, {0.5, 0.5}); }, "parameters");
  // Decimal fractions that do not sum to exactly 1 in binary are accepted.
  EXPECT_NO_THROW(split_neuron(m, t, {1, 0}, {0.1, 0.2, 0.7}));
  expect_invalid(
      [&] {
        remove_neuron(m, t, {2, 1});
      },
      "neuron 1 of hidden layer 2: its outgoing weights are not 0 (largest |a| = ");
  expect_invalid([&] { merge_neurons(m, t, 1, 0, 1); }, "differ in incoming weight 0");
  expect_invalid([&] { merge_neurons(m, t, 1, 2, 2); }, "given twice");
  expect_invalid(
      [&] {
        permute_neurons(m, t, 1, {0, 1, 2, 3});
      },
      "4 entries; hidden layer 1 has 5");
  expect_invalid([&] { permute_neurons(m, t, 1, {0, 1, 1, 3, 4}); }, "entry 2 = 1");
  expect_invalid([&] { permute_neurons(m, t, 1, {0, 1, 2, 3, 5}); }, "out of range");
  expect_invalid([&] { grow(m, t, {6}); }, "hidden_widths has 1 entries");
  expect_invalid([&] { grow(m, t, {4, 4}); }, "below the width 5 of hidden layer 1");
  expect_invalid([&] { add_zero_neuron(m, t, 1, {.incoming = VectorXd::Ones(3), .bias = 1.0}); },
                 "hidden layer 1 has no bias");
  expect_invalid([&] { add_zero_neuron(m, t, 2, {.incoming = VectorXd::Ones(4)}); }, "needs 5");
  expect_invalid([&] { add_zero_neuron(m, t, 2, {.outgoing = VectorXd::Ones(2)}); }, "must be 0");
  MatrixXd a(2, 2);
  a << 1.0, -1.0, 1.0, -0.5;
  expect_invalid([&] { add_zero_group(m, t, 1, VectorXd(), 0.0, MatrixXd(a.topRows(1))); },
                 "need 4 x k");
  MatrixXd a4 = MatrixXd::Ones(4, 2);
  a4.col(1) *= -1.0;
  a4(3, 1) = -0.5;
  expect_invalid([&] { add_zero_group(m, t, 1, VectorXd(), 0.0, a4); }, "row 3 sums to 0.5");
  const Mlp shallow({.widths = {3, 2}});
  expect_invalid([&] { add_zero_neuron(shallow, shallow.init_parameters(), 1); },
                 "has no hidden layer");
  const Mlp narrow({.widths = {2, 1, 1}});
  VectorXd tn = narrow.init_parameters();
  tn[neuron_indices(narrow, {1, 0}).outgoing[0]] = 0.0;
  expect_invalid([&] { remove_neuron(narrow, tn, {1, 0}); }, "only neuron");
}

}  // namespace
}  // namespace locus::transforms
