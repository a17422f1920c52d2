#include "locus/dropout/subnetwork.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "locus/dropout/mean_field_sgd.hpp"
#include "testing/random_data.hpp"

namespace locus::dropout {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
constexpr double kEps = std::numeric_limits<double>::epsilon();

Mlp mean_field_net(Index p, Index n, Index l, bool bias) {
  return Mlp({.widths = {p, n, l},
              .activation = Activation::tanh,
              .bias = {bias, bias},
              .mean_field = true});
}

// Keeping every neuron multiplies the outgoing weights by N/N = 1: the same vector bit for bit.
TEST(DropoutParameters, KeepingAllNeuronsIsTheIdentity) {
  const Mlp model = mean_field_net(3, 8, 2, true);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  EXPECT_EQ(dropout_parameters(model, theta, random_keep_set(8, 8, 1)), theta);
}

// The subnetwork on A of a mean-field net is the M-neuron mean-field net of the kept neurons:
// (1/N) (sum_{i in A} (N/M) a_i tanh(w_i . x + b_i) + c) = (1/M) sum_{i in A} a_i tanh(...) + c/N
// (the output scale 1/N multiplies the output bias too),
// computed here by hand. Both sides round a sum of M terms of size max|a| (|tanh| <= 1):
// 8 M eps max|a| bounds the difference.
TEST(DropoutParameters, IsTheMeanFieldNetOfTheKeptNeurons) {
  const Index p = 4, n = 10, m = 4;
  const Mlp model = mean_field_net(p, n, 1, true);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const std::vector<Index> kept = random_keep_set(n, m, 9);
  const MatrixXd x = testing::random_data(5, p, 1, 3).x;
  const MatrixXd f = model.predict(dropout_parameters(model, theta, kept), x);
  const auto w = model.weight(theta, 0);
  const auto b = model.bias(theta, 0);
  const auto a = model.weight(theta, 1);
  const double c = model.bias(theta, 1)(0);
  for (Index r = 0; r < x.rows(); ++r) {
    double sum = 0.0;
    for (Index i : kept) sum += a(0, i) * std::tanh(w.row(i).dot(x.row(r)) + b(i));
    const double expected = sum / double(m) + c / double(n);
    EXPECT_NEAR(f(r, 0), expected, 8 * m * kEps * a.cwiseAbs().maxCoeff()) << "row " << r;
  }
}

TEST(KeepSets, HalvesAndRandomSubsets) {
  EXPECT_EQ(half_keep_set(6, KeepRule::first_half), (std::vector<Index>{0, 1, 2}));
  EXPECT_EQ(half_keep_set(6, KeepRule::second_half), (std::vector<Index>{3, 4, 5}));
  const auto r = half_keep_set(100, KeepRule::random, 5);
  EXPECT_EQ(r, half_keep_set(100, KeepRule::random, 5));  // seeded
  EXPECT_EQ(std::set<Index>(r.begin(), r.end()).size(), 50u);
  EXPECT_TRUE(std::is_sorted(r.begin(), r.end()));
  EXPECT_EQ(complement(6, {0, 2, 4}), (std::vector<Index>{1, 3, 5}));
  EXPECT_EQ(parse_keep_rule("second_half"), KeepRule::second_half);
}

TEST(KeepSets, BadInputNamesTheProblem) {
  try {
    half_keep_set(7, KeepRule::first_half);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("odd"), std::string::npos) << e.what();
  }
  try {
    check_keep_set(10, {1, 12});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("entry 12 is out of range 0..9"), std::string::npos);
  }
  EXPECT_THROW(check_keep_set(10, {1, 1}), std::invalid_argument);
  EXPECT_THROW(random_keep_set(5, 6, 0), std::invalid_argument);
  EXPECT_THROW(parse_keep_rule("middle"), std::invalid_argument);
}

// The gap is |L_N - L_M| by definition, recomputed here; M = N gives exactly 0.
TEST(DropoutError, AveragesTheGapsOfRandomKeepSets) {
  const Mlp model = mean_field_net(3, 20, 1, false);
  const Dataset data = testing::random_data(30, 3, 1, 7);
  const Objective objective(model, data);
  const VectorXd theta = mean_field_init(model, 3);
  const DropoutError e = dropout_error(objective, theta, {.kept = 5, .samples = 6, .seed = 11});
  ASSERT_EQ(e.gaps.size(), 6);
  for (Index s = 0; s < 6; ++s) {
    const double gap =
        std::abs(objective.loss(theta) -
                 objective.loss(dropout_parameters(model, theta, random_keep_set(20, 5, 11 + s))));
    EXPECT_EQ(e.gaps(s), gap);
  }
  EXPECT_GT(e.gap_standard_error, 0.0);
  EXPECT_LE(e.gap_mean, e.gap_max);
  const DropoutError all = dropout_error(objective, theta, {.kept = 20, .samples = 2});
  EXPECT_EQ(all.gap_max, 0.0);
  EXPECT_THROW(dropout_error(objective, theta, {.kept = 21}), std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout

namespace locus::dropout {
namespace {

// Dropout in both hidden layers of a three-layer mean-field net (stored form W_2 = U / N1) is the
// mean-field net of the kept neurons, computed here by hand:
//   y = (1/M2) sum_{j in A2} a_j tanh((1/M1) sum_{i in A1} U_ji tanh(w_i . x + b_i) + c_j) + d/N2.
// The inner sums round M1 terms of size max|U| (8 M1 eps max|U| each), which tanh' <= 1 and the
// outer mean carry to the output with weight max|a|; the outer sum rounds M2 terms of max|a|.
TEST(DropoutLayers, IsTheMeanFieldNetOfTheKeptNeuronsInEveryLayer) {
  const Index p = 3, n1 = 8, n2 = 6;
  const Mlp model({.widths = {p, n1, n2, 1}, .activation = Activation::tanh, .mean_field = true});
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 7});
  const std::vector<Index> a1 = {1, 2, 5}, a2 = {0, 3, 4, 5};
  const VectorXd kept = dropout_layers(model, theta, {a1, a2});
  const MatrixXd x = testing::random_data(5, p, 1, 3).x;
  const auto& L1 = model.layer(0);
  const auto& L2 = model.layer(1);
  const auto& L3 = model.layer(2);
  double max_u = 0, max_a = 0;
  for (Index i = 0; i < x.rows(); ++i) {
    double y = 0;
    for (Index j : a2) {
      double h = 0;
      for (Index k : a1) {
        double z = theta(L1.bias_offset + k);
        for (Index c = 0; c < p; ++c) z += theta(L1.weight_offset + k * p + c) * x(i, c);
        const double u = double(n1) * theta(L2.weight_offset + j * n1 + k);
        max_u = std::max(max_u, std::abs(u));
        h += u * std::tanh(z);
      }
      const double a = theta(L3.weight_offset + j);
      max_a = std::max(max_a, std::abs(a));
      y += a * std::tanh(h / double(a1.size()) + theta(L2.bias_offset + j));
    }
    const double expected = y / double(a2.size()) + theta(L3.bias_offset) / double(n2);
    EXPECT_NEAR(
        model.predict(kept, x.row(i))(0, 0), expected,
        8 * kEps * (double(a1.size()) * max_u * max_a + double(a2.size()) * max_a) + 1e-300);
  }
  // An empty entry leaves its layer whole; keeping everything is the identity.
  EXPECT_EQ(dropout_layers(model, theta, {{}, a2}), dropout_parameters(model, theta, a2, 2));
  EXPECT_EQ(dropout_layers(model, theta, {random_keep_set(n1, n1, 1), {}}), theta);
  EXPECT_THROW(dropout_layers(model, theta, {a1}), std::invalid_argument);
  EXPECT_THROW(dropout_layers(model, theta, {a1, {0, 9}}), std::invalid_argument);
}

// dropout_error with every_layer: keeping all of h_L keeps all of every layer (gap exactly 0);
// keeping half of each layer of a random net changes the loss, by other amounts than dropping in
// the last layer alone.
TEST(DropoutError, EveryLayer) {
  const Mlp model({.widths = {3, 8, 4, 1}, .activation = Activation::tanh, .mean_field = true});
  const Dataset data = testing::random_data(30, 3, 1, 2);
  const Objective objective(model, data);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 1});
  const auto all = dropout_error(objective, theta, {.kept = 4, .samples = 3, .every_layer = true});
  EXPECT_EQ(all.gap_max, 0.0);
  const auto both = dropout_error(objective, theta, {.kept = 2, .samples = 5, .every_layer = true});
  const auto last = dropout_error(objective, theta, {.kept = 2, .samples = 5});
  EXPECT_EQ(both.width, 4);
  EXPECT_EQ(both.kept, 2);
  EXPECT_GT(both.gap_max, 0.0);
  EXPECT_NE(both.losses_kept, last.losses_kept);
  EXPECT_THROW(dropout_error(objective, theta, {.layer = 1, .every_layer = true}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout
