#include "locus/workflows/swap.hpp"

#include <gtest/gtest.h>

#include "locus/data/synthetic.hpp"

namespace locus::workflows {
namespace {

using Eigen::VectorXd;

// Acceptance 3 of the symmetry issue: along the swap path the loss stays <= 1e-20 (the teacher's
// own loss is a sum of squared rounding errors, ~d (eps |f|)^2 ~ 1e-29, and every point of the
// path computes the teacher's function to round-off), while the straight line between the two
// permuted minima climbs to a barrier many orders of magnitude above it.
void expect_zero_loss_path_and_barrier(const Mlp& teacher, const VectorXd& theta, Dataset data,
                                       const std::vector<symmetry::NeuronSwap>& swaps) {
  data.y = teacher.predict(theta, data.x);
  const symmetry::SwapPath s = symmetry::swap_path(teacher, theta, swaps);
  const Objective loss(s.model, data);
  const SwapPathCheck c = check_swap_path(loss, s);
  ASSERT_EQ(c.segments.size(), 7 * swaps.size());
  EXPECT_LE(c.loss_start, 1e-20);
  EXPECT_LE(c.loss_end, 1e-20);
  EXPECT_LE(c.path_loss_max, 1e-20) << summary(c);
  EXPECT_LE(c.loss_path.maxCoeff(), 1e-20);
  EXPECT_GE(c.line.barriers.above_larger_end, 1e-3) << summary(c);
  EXPECT_GE(c.loss_line.maxCoeff(), 1e-3);
  EXPECT_EQ(c.t.size(), c.loss_path.size());
  const io::Json j = to_json(c);
  EXPECT_EQ(j["segments"].size(), c.segments.size());
  EXPECT_FALSE(j["line"].contains("t"));
}

// Simsek et al.'s teacher: 4 sigmoid neurons without biases on the 41 x 41 grid.
TEST(SwapPathCheck, TwoLayerTeacherOnTheGrid) {
  const Mlp teacher(
      {.widths = {2, 4, 1}, .activation = Activation::sigmoid, .bias = {false, false}});
  VectorXd theta(12);
  theta << 0.6, 0.5, -0.5, 0.5, -0.2, -0.6, 0.1, -0.6, 1, 1, 1, 1;
  expect_zero_loss_path_and_barrier(teacher, theta, simsek_grid(), {{1, 0, 2}});
}

// A deep biased tanh teacher, one swap in each hidden layer.
TEST(SwapPathCheck, DeepTeacher) {
  const Mlp teacher({.widths = {2, 3, 3, 1}, .activation = Activation::tanh});
  const VectorXd theta = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  expect_zero_loss_path_and_barrier(teacher, theta, gaussian_data(60, 2, 1, 3),
                                    {{1, 0, 1}, {2, 1, 2}});
}

TEST(SwapPathCheck, RejectsAnObjectiveOfAnotherSize) {
  const Mlp teacher({.widths = {2, 2, 1}});
  const VectorXd theta = teacher.init_parameters({.seed = 1});
  const symmetry::SwapPath s = symmetry::swap_path(teacher, theta, {{1, 0, 1}});
  Dataset data = gaussian_data(5, 2, 1, 1);
  const Objective wrong(teacher, data);
  EXPECT_THROW(check_swap_path(wrong, s), std::invalid_argument);
}

}  // namespace
}  // namespace locus::workflows
