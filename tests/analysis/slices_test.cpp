#include "locus/analysis/slices.hpp"

#include <gtest/gtest.h>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"

namespace locus::analysis {
namespace {

using Eigen::VectorXd;

// The filter-normalised direction has each weight row's norm equal to theta's (to the
// round-off of one rescaling, ~ eps |row|); the slices pass through L(theta).
TEST(Slices, FilterNormalizedDirectionAndSlices) {
  const Mlp model({.widths = {10, 50, 1}});
  const Objective obj(model, gaussian_data(20, 10, 1, 1));
  const VectorXd theta = model.init_parameters();
  const VectorXd d = filter_normalized_direction(model, theta, 3);
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    for (Index o = 0; o < s.out; ++o) {
      const double target = theta.segment(s.weight_offset + o * s.in, s.in).norm();
      EXPECT_NEAR(d.segment(s.weight_offset + o * s.in, s.in).norm(), target, 1e-14 * target);
    }
  }
  EXPECT_EQ(d, filter_normalized_direction(model, theta, 3));  // seeded
  const LossSlice s1 = loss_slice_1d(obj, theta, {.points = 5});
  EXPECT_EQ(s1.loss(2, 0), obj.loss(theta));  // alpha = 0 is the middle point
  const LossSlice s2 = loss_slice_2d(obj, theta, {.points = 3});
  EXPECT_EQ(s2.loss(1, 1), obj.loss(theta));
  EXPECT_THROW(loss_slice_1d(obj, theta, {.points = 1}), std::invalid_argument);
}

}  // namespace
}  // namespace locus::analysis
