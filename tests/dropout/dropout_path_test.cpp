#include "locus/dropout/dropout_path.hpp"

#include <gtest/gtest.h>

#include <set>

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
  // Silent segments are flat bit for bit (0 times any activation adds nothing).
  for (size_t s = 0; s < r.checks.size(); ++s)
    if (r.segments[s] == SegmentKind::silent_incoming) {
      EXPECT_EQ(r.checks[s].deviation, 0.0);
    }
}

INSTANTIATE_TEST_SUITE_P(Architectures, DropoutPathTest,
                         ::testing::Values(Case{true, false, false}, Case{true, true, false},
                                           Case{false, true, false}, Case{true, false, true},
                                           Case{false, false, true}));

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
  const Mlp deep({.widths = {2, 4, 4, 1}});
  const Objective deep_objective(deep, testing::random_data(10, 2, 1, 1));
  EXPECT_THROW(dropout_path(deep_objective, deep.init_parameters(), deep.init_parameters()),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout
