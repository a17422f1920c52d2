#include "locus/analysis/jacobian.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "testing/dense_references.hpp"
#include "testing/tolerances.hpp"

namespace locus::analysis {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::k_eps;

// y = 0, theta = 0 with tanh. All hidden units output tanh(0) = 0, so every derivative through
// them vanishes (W2 = 0 blocks the first layer, the hidden outputs are 0 for W2), and only the
// output bias moves the residuals: J = [0 ... 0 | 1], rank 1 < l d.
TEST(Jacobian, DegenerateZeroLossPoint) {
  const Mlp model({.widths = {3, 6, 1}, .activation = Activation::tanh});
  Dataset data = gaussian_data(5, 3, 1, 2);
  data.y.setZero();
  const Objective obj(model, data);
  const JacobianAnalysis j = analyze_jacobian(obj, VectorXd::Zero(model.n_params()));
  ASSERT_TRUE(j.computed) << j.skipped_reason;
  EXPECT_EQ(j.rank, 1);
  EXPECT_FALSE(j.full_row_rank);
  EXPECT_EQ(j.local_dimension, model.n_params() - 1);
  EXPECT_GT(j.gap, 1e12);  // sigma_2 is an exact 0 (or round-off): the decision is unambiguous
  EXPECT_NEAR(j.sigma_max, std::sqrt(5.0), 1e-14);  // the ones column has norm sqrt(d)
}

// At a generic point of an overparameterized net (l d < n) J has full row rank; the singular
// values match an independent Jacobi SVD (Eigen::JacobiSVD) to ~ eps sigma_max per value (a
// constant of 100 covers the accumulation in both algorithms), and the bases split R^n
// orthogonally: the tangent basis spans ker J (|J T| ~ eps |J|), [N T] is orthogonal.
TEST(Jacobian, RankSingularValuesAndBases) {
  const Mlp model({.widths = {3, 8, 2}, .activation = Activation::softplus});
  const Dataset data = gaussian_data(6, 3, 2, 3);
  const Objective obj(model, data);
  const VectorXd theta = model.init_parameters({.seed = 4});
  const Index n = obj.n_params(), ld = obj.n_residuals();
  const JacobianAnalysis j = analyze_jacobian(obj, theta, {.bases = true});
  ASSERT_TRUE(j.computed);
  EXPECT_EQ(j.rows, ld);
  EXPECT_EQ(j.cols, n);
  EXPECT_EQ(j.rank, ld);
  EXPECT_TRUE(j.full_row_rank);
  EXPECT_TRUE(std::isinf(j.gap));
  EXPECT_DOUBLE_EQ(j.tolerance, double(n) * k_eps * j.sigma_max);
  const MatrixXd jac = obj.jacobian(theta);
  const VectorXd ref = testing::jacobi_singular_values(jac);
  EXPECT_LE((ref - j.singular_values).cwiseAbs().maxCoeff(), 100 * k_eps * j.sigma_max);
  ASSERT_EQ(j.tangent_basis.cols(), n - ld);
  ASSERT_EQ(j.normal_basis.cols(), ld);
  EXPECT_LE((jac * j.tangent_basis).cwiseAbs().maxCoeff(), 100 * double(n) * k_eps * j.sigma_max);
  MatrixXd q(n, n);
  q << j.normal_basis, j.tangent_basis;
  EXPECT_LE((q.transpose() * q - MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(),
            100 * double(n) * k_eps);
  // The Gauss-Newton spectrum: n - l d zeros, then 2 sigma^2 ascending.
  const VectorXd gn = gauss_newton_spectrum(obj, theta);
  EXPECT_EQ(gn.head(n - ld).cwiseAbs().maxCoeff(), 0.0);
  // gauss_newton_spectrum runs its own SVD (values only, not the bases'): its sigma_max agrees
  // with this one to the 100 eps sigma_max checked above, so 2 sigma^2 to 200 eps relative.
  const double top = 2.0 * obj.scale() * j.sigma_max * j.sigma_max;
  EXPECT_NEAR(gn[n - 1], top, 200 * k_eps * top);
}

TEST(Jacobian, SkipsHugeJacobiansAndRejectsBadInput) {
  const Mlp model({.widths = {10, 50, 1}});
  const Objective obj(model, gaussian_data(20, 10, 1, 1));
  const VectorXd theta = model.init_parameters();
  const JacobianAnalysis j = analyze_jacobian(obj, theta, {.max_bytes = 100});
  EXPECT_FALSE(j.computed);
  EXPECT_FALSE(j.skipped_reason.empty());
  EXPECT_THROW(analyze_jacobian(obj, VectorXd::Zero(2)), std::invalid_argument);
  EXPECT_THROW(gauss_newton_spectrum(obj, theta.head(3)), std::invalid_argument);
}

}  // namespace
}  // namespace locus::analysis
