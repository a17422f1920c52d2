#include "locus/analysis/inertia.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testing/tolerances.hpp"

namespace locus::analysis {
namespace {

using Eigen::VectorXd;
using testing::k_eps;

// The rule tau = factor * n * eps * max|lambda|, on eigenvalues placed on both sides of it.
TEST(Inertia, CountsWithTheZeroRuleAndItsGap) {
  const Index n = 6;
  const double factor = 10.0, norm = 4.0;
  const double tau = factor * double(n) * k_eps * norm;
  VectorXd lambda(6);
  lambda << -norm, -2 * tau, -0.5 * tau, 0.0, 0.25 * tau, 1.0;
  const InertiaCount c = count_inertia(lambda, n, factor);
  EXPECT_DOUBLE_EQ(c.tolerance, tau);
  EXPECT_EQ(c.negative, 2);
  EXPECT_EQ(c.zero, 3);
  EXPECT_EQ(c.positive, 1);
  EXPECT_TRUE(c.complete);
  EXPECT_DOUBLE_EQ(c.gap, (2 * tau) / (0.5 * tau));  // min nonzero / max zero
  // Partial spectra are not complete; gap is inf without zeros and 0 without non-zeros.
  const InertiaCount part = count_inertia(lambda.head(2), n, factor);
  EXPECT_FALSE(part.complete);
  EXPECT_TRUE(std::isinf(part.gap));
  EXPECT_EQ(count_inertia(VectorXd::Zero(3), 3, factor).gap, 0.0);
  EXPECT_EQ(count_inertia(VectorXd::Zero(3), 3, factor).zero, 3);
}

}  // namespace
}  // namespace locus::analysis
