#include "locus/workflows/sard.hpp"

#include <gtest/gtest.h>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"

namespace locus::workflows {
namespace {

using Eigen::VectorXd;

// y = 0, theta = 0 with tanh is a degenerate zero-loss point (rank J = 1 < l d = 5, see
// tests/analysis/jacobian_test.cpp). Perturbing the labels by |r| <= 1e-3 and solving again
// lands on a regular zero-loss point: rank J = l d (Cooper Thm 2.1). LM on this zero-residual
// problem reaches the round-off floor of |r|^2 ~ (d eps)^2, far below 1e-24.
TEST(Sard, PerturbationRestoresFullRank) {
  const Mlp model({.widths = {3, 6, 1}, .activation = Activation::tanh});
  Dataset data = gaussian_data(5, 3, 1, 2);
  data.y.setZero();
  const Objective obj(model, data);
  const SardCheck s = sard_check(obj, VectorXd::Zero(model.n_params()), {.seed = 3});
  EXPECT_EQ(s.rank_before, 1);
  EXPECT_TRUE(s.restored()) << s.rank_before << " -> " << s.rank_after;
  EXPECT_LT(s.loss_after, 1e-24);
  EXPECT_EQ(s.rank_after, 5);
  EXPECT_TRUE(s.jacobian_after.full_row_rank);
  EXPECT_THROW(sard_check(obj, VectorXd::Zero(model.n_params()), {.epsilon = 0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::workflows
