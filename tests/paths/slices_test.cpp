// Loss slices and profile slices (locus/paths/slices.hpp): filter normalisation, the plane
// through two points, the profile against the Schur complement of a quadratic, and the profile
// below the slice on a trained network.

#include "locus/paths/slices.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "locus/core/random.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/solvers/solve.hpp"
#include "testing/tolerances.hpp"

namespace locus::paths {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::k_eps;

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
    EXPECT_EQ(d.segment(s.bias_offset, s.out).cwiseAbs().maxCoeff(), 0.0);
  }
  EXPECT_EQ(d, filter_normalized_direction(model, theta, 3));  // seeded
  const LossSlice s1 = loss_slice(obj, theta, {.points = 5});
  EXPECT_EQ(s1.loss(2, 0), obj.loss(theta));  // alpha = 0 is the middle point
  EXPECT_EQ(s1.d1, filter_normalized_direction(model, theta, 0));
  const LossSlice s2 = loss_slice(obj, theta, {.dims = 2, .points = 3});
  EXPECT_EQ(s2.loss.rows(), 3);
  EXPECT_EQ(s2.loss.cols(), 3);
  EXPECT_EQ(s2.loss(1, 1), obj.loss(theta));
  EXPECT_EQ(s2.loss(2, 0), obj.loss(theta + s2.d1 - s2.d2));
  EXPECT_THROW(loss_slice(obj, theta, {.points = 1}), std::invalid_argument);
  EXPECT_THROW(loss_slice(obj, theta, {.dims = 3}), std::invalid_argument);
  try {
    loss_slice(obj, theta, {.radius = 0});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(slice_table().rephrase(e, options::Interface::cli),
              "--radius must be finite and > 0, got 0");
  }
}

// Through A and B: alpha = 0 is A and alpha = 1 is B (A + (B - A) rounds to B within a few ulps
// of |A| + |B|, so L there agrees with L(B) to the loss's sensitivity times that: 1e-12
// relative); the second direction is orthogonal to B - A (the rounding of one projection,
// ~ n eps |d1| |d2|) and as long.
TEST(Slices, PlaneThroughTwoPoints) {
  const Mlp model({.widths = {3, 4, 2}});
  const Objective obj(model, gaussian_data(15, 3, 2, 2));
  const VectorXd a = model.init_parameters({.seed = 1}), b = model.init_parameters({.seed = 2});
  const LossSlice s = loss_slice_between(obj, a, b, {.dims = 2, .radius = 0.5, .points = 9});
  // alpha: -0.5, -0.25, 0, ..., 1.5; beta: -1, -0.75, ..., 1 (index 4 is beta = 0).
  EXPECT_EQ(s.alpha[2], 0.0);
  EXPECT_EQ(s.beta[4], 0.0);
  EXPECT_EQ(s.loss(2, 4), obj.loss(a));
  EXPECT_NEAR(s.loss(6, 4), obj.loss(b), 1e-12 * obj.loss(b));
  const double n = double(a.size());
  EXPECT_LE(std::abs(s.d1.dot(s.d2)), 10 * n * k_eps * s.d1.norm() * s.d2.norm());
  EXPECT_NEAR(s.d2.norm(), s.d1.norm(), 1e-14 * s.d1.norm());
  const io::Json j = to_json(s);
  EXPECT_EQ(j["dims"], 2);
  EXPECT_EQ(j["loss"].size(), 9u);
  EXPECT_THROW(loss_slice_between(obj, a, a), std::invalid_argument);
  EXPECT_THROW(loss_slice_between(obj, a, VectorXd::Zero(3)), std::invalid_argument);
}

// f(x) = |R (x - x*)|^2 (residuals R (x - x*)): a quadratic with Hessian A = 2 R^T R and
// minimum 0 at x*. Minimized over z orthogonal to d, f(x* + t d + z) has the closed form
//   P(t) = t^2 |d|^4 / (2 d^T A^{-1} d)
// (the Schur complement of A's block on d's complement, 1 / (A^{-1})_{dd} in an orthonormal
// basis whose first vector is d / |d|).
struct LeastSquaresQuadratic {
  MatrixXd r;
  VectorXd x_star;
  Index n_params() const { return x_star.size(); }
  Index n_residuals() const { return r.rows(); }
  VectorXd residuals(const VectorXd& x) const { return r * (x - x_star); }
  MatrixXd jacobian(const VectorXd&) const { return r; }
  double loss(const VectorXd& x) const { return residuals(x).squaredNorm(); }
  LossGradient loss_gradient(const VectorXd& x) const {
    const VectorXd res = residuals(x);
    return {res.squaredNorm(), 2 * r.transpose() * res};
  }
  VectorXd hvp(const VectorXd&, const VectorXd& v) const { return 2 * r.transpose() * (r * v); }
};

// Each minimization stops at |P grad f|_inf <= 1e-12; with A's smallest eigenvalue lambda_min on
// d's complement the loss is then within |g|^2 / lambda_min ~ 1e-24 / lambda_min of P(t), far
// below the rounding of f itself (a few eps * P(t)). 1e-10 relative covers both solvers with a
// margin for the conditioning of this random A (condition number ~ 1e2).
TEST(ProfileSlice, QuadraticMatchesSchurComplement) {
  const Index n = 6;
  Rng rng(5);
  MatrixXd r(8, n);
  for (Index i = 0; i < r.size(); ++i) r.data()[i] = rng.normal();
  VectorXd x_star(n), d(n);
  for (Index i = 0; i < n; ++i) {
    x_star[i] = rng.normal();
    d[i] = rng.normal();
  }
  const LeastSquaresQuadratic f{r, x_star};
  const MatrixXd a = 2 * r.transpose() * r;
  const double schur = std::pow(d.squaredNorm(), 2) / (2 * d.dot(a.ldlt().solve(d)));
  const VectorXd t = VectorXd::LinSpaced(9, -1.0, 1.0);
  for (const ProfileSolver solver : {ProfileSolver::lm, ProfileSolver::lbfgs}) {
    const ProfileSlice p =
        profile_slice(f, x_star, d, t, {.solver = solver, .gradient_tolerance = 1e-12});
    ASSERT_TRUE(p.converged) << to_string(solver) << ": " << p.message << "\n" << to_json(p).dump();
    for (Index i = 0; i < t.size(); ++i) {
      const double expected = schur * t[i] * t[i];
      EXPECT_NEAR(p.profile[i], expected, 1e-10 * std::max(expected, 1e-300))
          << to_string(solver) << " t = " << t[i];
      EXPECT_NEAR(p.slice[i], 0.5 * t[i] * t[i] * d.dot(a * d), 1e-12 * d.dot(a * d));
    }
  }
  EXPECT_THROW(profile_slice(f, x_star, VectorXd::Zero(n), t), std::invalid_argument);
  EXPECT_THROW(profile_slice(f, x_star, d, VectorXd()), std::invalid_argument);
}

// A [3, 3, 1] tanh student trained by LM (from init seed 1) on 25 Gaussian points labelled by a
// teacher of the same shape: it stops at a local minimum of nonzero loss (~4e-7, |g|_inf ~1e-13)
// with small weights. Along a filter-normalised direction the profile is below the plain slice
// at every t (each minimization starts at or below the slice; LM's merit c |r|^2 and L agree to
// a few ulps, hence 4 eps), strictly below away from t = 0 where the slice rises, and equal to it
// at t = 0, the minimum (|P grad L|_inf is already below the tolerance: no step).
TEST(ProfileSlice, TrainedNetworkProfileBelowSlice) {
  const Mlp model({.widths = {3, 3, 1}, .activation = Activation::tanh});
  Dataset data = gaussian_data(25, 3, 1, 2);
  data.y = model.predict(model.init_parameters({.scheme = InitScheme::normal, .seed = 1}), data.x);
  const Objective obj(model, data);
  const solvers::SolveResult trained =
      solvers::solve(obj, model.init_parameters({.seed = 1}), {.method = solvers::Method::lm});
  ASSERT_TRUE(trained.converged()) << trained.message;
  const VectorXd theta = trained.theta;
  ASSERT_GT(obj.loss(theta), 1e-10);  // a minimum of nonzero loss
  const LossSlice s = loss_slice(obj, theta, {.radius = 0.5, .points = 11, .seed = 4});
  const ProfileSlice p = profile_slice(obj, theta, s.d1, s.alpha);
  ASSERT_TRUE(p.converged) << p.message << "\n" << to_json(p).dump();
  for (Index i = 0; i < s.alpha.size(); ++i) {
    EXPECT_EQ(p.slice[i], s.loss(i, 0));
    EXPECT_LE(p.profile[i], p.slice[i] * (1 + 4 * k_eps)) << "t = " << p.t[i];
  }
  EXPECT_EQ(p.profile[5], p.slice[5]);  // t = 0
  EXPECT_EQ(p.iterations[5], 0);
  EXPECT_LT(p.profile[0], p.slice[0] - 1e-3 * (p.slice[0] - p.slice[5]));
  EXPECT_LT(p.profile[10], p.slice[10] - 1e-3 * (p.slice[10] - p.slice[5]));
  const io::Json j = to_json(p);
  EXPECT_EQ(j["profile"].size(), 11u);
  EXPECT_NE(summary(p).find("profile slice: converged"), std::string::npos);
}

}  // namespace
}  // namespace locus::paths
