#include "locus/dropout/dropout_path.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "locus/dropout/mean_field_sgd.hpp"
#include "locus/dropout/subnetwork.hpp"
#include "locus/transforms/surgery.hpp"
#include "testing/random_data.hpp"

namespace locus::dropout {
namespace {

using Eigen::VectorXd;

struct Case {
  bool mean_field, bias, five;
};

class DropoutPathTest : public ::testing::TestWithParam<Case> {};

// The flat indices of the output layer (W_2 and b_2).
std::set<Index> output_indices(const Mlp& model) {
  std::set<Index> s;
  for (Index i = model.layer(1).weight_offset; i < model.n_params(); ++i) s.insert(i);
  return s;
}

// Checks each segment's type from the vertices alone, without evaluating a loss:
//   output_weights: only output-layer entries differ;
//   silent_incoming: only incoming weights / biases of neurons whose outgoing weights are 0 at
//                    both ends differ;
//   swap: only output entries differ, and every neuron whose outgoing weights change has a twin
//         with bitwise equal incoming weights and bias (so sum (1-t) a h + t a h is constant).
void expect_segment_types(const Mlp& model, const DropoutPathResult& r) {
  const auto& v = r.path.control_points();
  const std::set<Index> out = output_indices(model);
  const Index n = model.spec().widths[1];
  for (size_t s = 0; s < r.segments.size(); ++s) {
    const VectorXd a = v.row(Index(s)).transpose(), b = v.row(Index(s + 1)).transpose();
    std::set<Index> changed;
    for (Index i = 0; i < a.size(); ++i)
      if (a(i) != b(i)) changed.insert(i);
    const SegmentKind kind = r.segments[s];
    if (kind == SegmentKind::silent_incoming) {
      for (Index j = 0; j < n; ++j) {
        const auto at = transforms::neuron_indices(model, {1, j});
        bool moved = false;
        for (Index i : at.incoming)
          if (changed.erase(i) > 0) moved = true;
        if (at.bias >= 0) moved = changed.erase(at.bias) > 0 || moved;
        if (!moved) continue;
        for (Index i : at.outgoing) {
          EXPECT_EQ(a(i), 0.0) << "segment " << s + 1 << ": neuron " << j << " is not silent";
          EXPECT_EQ(b(i), 0.0) << "segment " << s + 1 << ": neuron " << j << " is not silent";
        }
      }
      EXPECT_TRUE(changed.empty()) << "segment " << s + 1 << " moves more than silent neurons";
    } else {
      for (Index i : changed)
        EXPECT_TRUE(out.count(i)) << "segment " << s + 1 << " moves a hidden-layer weight " << i;
    }
    if (kind == SegmentKind::swap) {
      for (Index j = 0; j < n; ++j) {
        const auto wj = transforms::neuron_weights(model, a, {1, j});
        if (wj.outgoing == transforms::neuron_weights(model, b, {1, j}).outgoing) continue;
        bool twin = false;
        for (Index k = 0; k < n; ++k) {
          const auto wk = transforms::neuron_weights(model, a, {1, k});
          twin = twin || (k != j && wk.incoming == wj.incoming && wk.bias == wj.bias);
        }
        EXPECT_TRUE(twin) << "segment " << s + 1 << ": neuron " << j << " has no twin";
      }
    }
  }
}

// Random networks (no training): the path's construction is exact for any two networks of one
// architecture, so the segment checks (1e-12 relative plus the rounding level) and the bound
// hold whatever the losses are.
TEST_P(DropoutPathTest, SegmentsAreOfTheirTypeAndTheBoundHolds) {
  const Case c = GetParam();
  const Mlp model({.widths = {3, 8, 2},
                   .activation = Activation::tanh,
                   .bias = {c.bias, c.bias},
                   .mean_field = c.mean_field});
  const Dataset data = testing::random_data(40, 3, 2, 5);
  const Objective objective(model, data);
  const VectorXd a = model.init_parameters({.scheme = InitScheme::normal, .seed = 1});
  const VectorXd b = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const DropoutPathResult r =
      dropout_path(objective, a, b, {.keep = "random", .seed = 3, .five_segments = c.five});
  ASSERT_EQ(r.segments.size(), c.five ? 5u : 7u);
  EXPECT_EQ(r.path.start(), a);
  EXPECT_EQ(r.path.end(), b);
  expect_segment_types(model, r);
  for (const SegmentCheck& s : r.checks)
    EXPECT_TRUE(s.holds) << to_string(s.kind) << ": deviation " << s.deviation << " > "
                         << s.tolerance;
  EXPECT_TRUE(r.segments_hold);
  EXPECT_TRUE(r.bound_holds) << "excess " << r.excess << " > bound " << r.bound;
  // The bound is the larger dropout gap, recomputed.
  const double gap_a = dropout_gap(objective, a, r.kept);
  const double gap_b = dropout_gap(objective, b, c.five ? r.paired : r.kept);
  EXPECT_EQ(r.bound, std::max(gap_a, gap_b));
  // Silent segments are flat: 0 times any activation adds nothing, so the loss moves only by the
  // rounding of the interpolated coordinates that both ends share ((1 - t) x + t x need not be x,
  // and differs with and without FMA). That is a few ulps of each coordinate, times |grad L|:
  // 1e3 * eps * (1 + |L|) leaves a margin of ~15 over the largest seen (64 eps at L ~ 1).
  for (size_t s = 0; s < r.checks.size(); ++s)
    if (r.segments[s] == SegmentKind::silent_incoming) {
      const double scale = 1.0 + std::abs(objective.loss(a));
      EXPECT_LE(r.checks[s].deviation, 1e3 * std::numeric_limits<double>::epsilon() * scale);
    }
}

INSTANTIATE_TEST_SUITE_P(Architectures, DropoutPathTest,
                         ::testing::Values(Case{true, false, false}, Case{true, true, false},
                                           Case{false, true, false}, Case{true, false, true},
                                           Case{false, false, true}));

// Two hidden layers (15 segments): every segment re-evaluated holds its type; output segments move
// only W3 and b3; the ends of the output segments are the nets dropped in layer 2 and in layers
// 1..2 (evaluated independently with dropout_layers, whose neurons sit elsewhere: the sums run in
// another order, so 1e-12 relative); the excess is at most the bound (that holds for any two nets:
// each output segment's ends are dropped nets). Random nets, with and without biases / mean-field,
// and two trained mean-field students.
TEST(DropoutPath, TwoHiddenLayers) {
  const Index p = 3, n1 = 6, n2 = 4;
  const Dataset data = testing::random_data(40, p, 1, 5);
  for (const bool mean_field : {false, true}) {
    for (const bool bias : {false, true}) {
      const Mlp model({.widths = {p, n1, n2, 1},
                       .activation = Activation::tanh,
                       .bias = {bias, bias, bias},
                       .mean_field = mean_field});
      const Objective objective(model, data);
      const VectorXd a = model.init_parameters({.scheme = InitScheme::normal, .seed = 1});
      const VectorXd b = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
      const auto r = dropout_path(objective, a, b, {.keep = "random", .seed = 3});
      ASSERT_EQ(r.segments.size(), 15u);
      ASSERT_EQ(r.kept.size(), size_t(n2 / 2));
      ASSERT_EQ(r.kept_lower.size(), size_t(n1 / 2));
      const auto& v = r.path.control_points();
      EXPECT_EQ(VectorXd(v.row(0).transpose()), a);
      EXPECT_EQ(VectorXd(v.row(15).transpose()), b);
      for (const auto& c : r.checks) EXPECT_TRUE(c.holds) << summary(r);
      const Index top = model.layer(2).weight_offset;
      for (size_t s = 0; s < 15; ++s)
        if (r.segments[s] == SegmentKind::output_weights) {
          EXPECT_EQ((v.row(Index(s)) - v.row(Index(s + 1))).head(top).cwiseAbs().maxCoeff(), 0.0)
              << "segment " << s + 1;
        }
      auto near = [&](Index vertex, const VectorXd& t, const std::vector<std::vector<Index>>& k) {
        const double expected = objective.loss(dropout_layers(model, t, k));
        EXPECT_NEAR(objective.loss(v.row(vertex).transpose()), expected, 1e-12 * expected)
            << "vertex " << vertex;
      };
      near(1, a, {{}, r.kept});
      near(3, a, {r.kept_lower, r.kept});
      near(6, b, {r.kept_lower, r.kept});
      near(13, b, {{}, r.kept});
      EXPECT_TRUE(r.bound_holds) << summary(r);
    }
  }
  // Two mean-field students of one teacher, trained online.
  const Mlp student({.widths = {p, 40, 40, 1},
                     .activation = Activation::tanh,
                     .bias = {false, false, false},
                     .mean_field = true});
  const Mlp teacher({.widths = {p, 2, 1}, .activation = Activation::tanh, .bias = {false, false}});
  const VectorXd tt = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 3});
  Dataset test = testing::random_data(300, p, 1, 9);
  test.y = teacher.predict(tt, test.x);
  const Objective objective(student, test);
  VectorXd ends[2];
  for (int e = 0; e < 2; ++e)
    ends[e] =
        train_online(student, mean_field_init(student, 10 + e), teacher, tt,
                     {.step = 0.5, .steps = 1500, .batch_size = 4, .seed = std::uint64_t(20 + e)})
            .theta;
  const auto r = dropout_path(objective, ends[0], ends[1]);
  EXPECT_TRUE(r.segments_hold) << summary(r);
  EXPECT_TRUE(r.bound_holds) << summary(r);
}

TEST(DropoutPath, KeepSetsAndBadInput) {
  const Mlp model({.widths = {2, 6, 1}, .activation = Activation::tanh, .mean_field = true});
  const Objective objective(model, testing::random_data(10, 2, 1, 1));
  const VectorXd a = model.init_parameters({.seed = 1}), b = model.init_parameters({.seed = 2});
  EXPECT_EQ(dropout_path(objective, a, b, {.keep = "1,3,5"}).kept, (std::vector<Index>{1, 3, 5}));
  EXPECT_EQ(dropout_path(objective, a, b, {.keep = "second-half"}).paired,
            (std::vector<Index>{0, 1, 2}));
  EXPECT_THROW(dropout_path(objective, a, b, {.keep = "1,3,9"}), std::invalid_argument);
  EXPECT_THROW(dropout_path(objective, a, b, {.keep = "1,3"}), std::invalid_argument);
  EXPECT_THROW(dropout_path(objective, a, b, {.keep = "sideways"}), std::invalid_argument);
  try {
    dropout_path(objective, a, VectorXd::Zero(5), {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("params-end"), std::string::npos) << e.what();
  }
  const Mlp odd({.widths = {2, 5, 1}});
  const Objective odd_objective(odd, testing::random_data(10, 2, 1, 1));
  EXPECT_THROW(dropout_path(odd_objective, odd.init_parameters(), odd.init_parameters({.seed = 1})),
               std::invalid_argument);
  // Three hidden layers, an odd lower layer, five segments with two hidden layers.
  const Mlp deep({.widths = {2, 4, 4, 4, 1}});
  const Objective deep_objective(deep, testing::random_data(10, 2, 1, 1));
  EXPECT_THROW(dropout_path(deep_objective, deep.init_parameters(), deep.init_parameters()),
               std::invalid_argument);
  const Mlp odd_lower({.widths = {2, 5, 4, 1}});
  const Objective odd_lower_objective(odd_lower, testing::random_data(10, 2, 1, 1));
  EXPECT_THROW(
      dropout_path(odd_lower_objective, odd_lower.init_parameters(), odd_lower.init_parameters()),
      std::invalid_argument);
  const Mlp two({.widths = {2, 4, 4, 1}});
  const Objective two_objective(two, testing::random_data(10, 2, 1, 1));
  EXPECT_THROW(dropout_path(two_objective, two.init_parameters(), two.init_parameters(),
                            {.five_segments = true}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout
