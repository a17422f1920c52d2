// Curve fitting (locus/paths/curve.hpp): the quadrature, the integrated loss's gradient, and a
// fitted curve between a teacher and its permutation.

#include "locus/paths/curve.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "locus/analysis/derivative_check.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "testing/random_data.hpp"
#include "testing/tolerances.hpp"

namespace locus::paths {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::k_eps;

// The teacher of path_test.cpp's permutation test, on fewer points: [2, 4, 1] labelling d = 8
// Gaussian inputs (n = 17 parameters > d: the zero-loss set has dimension n - d = 9, room for a
// curve to go around the barrier), and its copy with hidden neurons 0 and 2 swapped.
struct PermutedPair {
  Mlp model{MlpSpec{.widths = {2, 4, 1}}};
  Dataset data;
  VectorXd a, b;
};
PermutedPair permuted_pair() {
  PermutedPair p;
  p.a = p.model.init_parameters({.scheme = InitScheme::normal, .seed = 5});
  p.data = testing::random_data(8, 2, 1, 6);
  p.data.y = p.model.predict(p.a, p.data.x);
  p.b = p.a;
  const LayerSlice& l0 = p.model.layer(0);
  const LayerSlice& l1 = p.model.layer(1);
  for (Index c = 0; c < l0.in; ++c)
    std::swap(p.b[l0.weight_offset + c], p.b[l0.weight_offset + 2 * l0.in + c]);
  std::swap(p.b[l0.bias_offset], p.b[l0.bias_offset + 2]);
  std::swap(p.b[l1.weight_offset], p.b[l1.weight_offset + 2]);
  return p;
}

// Gauss-Legendre with n nodes integrates t^k exactly for k <= 2n - 1: int_0^1 t^k = 1/(k+1).
// The sum of n positive terms of size <= 1 is rounded to about n eps.
TEST(GaussLegendre, ExactForPolynomialsOfDegreeBelow2n) {
  for (int n : {1, 2, 5, 16, 40}) {
    const Quadrature q = gauss_legendre(n);
    EXPECT_NEAR(q.weights.sum(), 1.0, 4 * n * k_eps);
    EXPECT_GT(q.weights.minCoeff(), 0.0);
    for (Index i = 1; i < n; ++i) EXPECT_LT(q.nodes[i - 1], q.nodes[i]);
    for (int k = 0; k <= 2 * n - 1; ++k)
      EXPECT_NEAR(q.weights.dot(q.nodes.array().pow(k).matrix()), 1.0 / (k + 1), 4 * n * k_eps)
          << "n = " << n << ", k = " << k;
    // ... and not for degree 2n: the error (n!)^4 / ((2n + 1) ((2n)!)^2) is 1.4e-6 at n = 5 (it
    // falls below rounding for n >~ 12).
    if (n <= 5) {
      EXPECT_GT(std::abs(q.weights.dot(q.nodes.array().pow(2 * n).matrix()) - 1.0 / (2 * n + 1)),
                1e3 * n * k_eps);
    }
  }
  EXPECT_THROW(gauss_legendre(0), std::invalid_argument);
}

// The exact gradient of J against central differences (analysis::check_derivatives, which
// derives its tolerances from the function's own Richardson estimate), for both curve kinds,
// at a bend away from the straight line.
TEST(CurveObjective, GradientMatchesFiniteDifferences) {
  const PermutedPair p = permuted_pair();
  const Objective loss(p.model, p.data);
  for (auto [kind, bends] : {std::pair{PathKind::bezier, 1}, std::pair{PathKind::polychain, 2}}) {
    const CurveObjective j(loss, p.a, p.b, kind, bends, 8);
    const VectorXd z = j.straight_bends() + 0.3 * VectorXd::LinSpaced(j.n_params(), -1.0, 1.0);
    const auto check = analysis::check_derivatives(j, z, {.seed = 3});
    EXPECT_TRUE(check.passed) << analysis::summary(check);
  }
}

// With its bend at the midpoint, a Bezier curve is the straight line; J is then the quadrature
// of L along the line, which for the polynomial L(t) = |(1 - t) a + t b|^2 (degree 2) is exact.
TEST(CurveObjective, StraightBendsGiveTheLine) {
  struct Norm2 {
    Index n_params() const { return 3; }
    double loss(const VectorXd& x) const { return x.squaredNorm(); }
    LossGradient loss_gradient(const VectorXd& x) const { return {x.squaredNorm(), 2 * x}; }
  } f;
  const VectorXd a = Eigen::Vector3d(1.0, 0.0, 2.0), b = Eigen::Vector3d(0.0, 3.0, -1.0);
  const CurveObjective j(f, a, b, PathKind::bezier, 1, 4);
  // int_0^1 |a + t (b - a)|^2 dt = |a|^2 + a.(b - a) + |b - a|^2 / 3; terms O(10), rounding
  // a few eps each.
  const double exact = a.squaredNorm() + a.dot(b - a) + (b - a).squaredNorm() / 3.0;
  EXPECT_NEAR(j.loss(j.straight_bends()), exact, 64 * k_eps * 10);
  EXPECT_THROW(CurveObjective(f, a, b, PathKind::polyline, 1, 4), std::invalid_argument);
  EXPECT_THROW(CurveObjective(f, a, b, PathKind::bezier, 2, 4), std::invalid_argument);
  EXPECT_THROW(CurveObjective(f, a, VectorXd::Zero(2), PathKind::bezier, 1, 4),
               std::invalid_argument);
}

// Garipov et al.'s observation on a small overparameterised net: the fitted curve's maximum is
// far below the straight line's. Both ends are at zero loss (rounding), so the barrier above the
// larger end is the maximum itself.
TEST(CurveFit, BezierBarrierFarBelowStraightLine) {
  const PermutedPair p = permuted_pair();
  const Objective loss(p.model, p.data);
  const CurveFit fit = fit_curve(loss, p.a, p.b);
  ASSERT_TRUE(fit.converged()) << summary(fit);
  ASSERT_TRUE(fit.profile.converged()) << fit.profile.message;
  const double line = fit.line_profile.barriers.above_larger_end;
  const double curve = fit.profile.barriers.above_larger_end;
  EXPECT_GT(line, 1e-2 * p.data.y.squaredNorm());
  EXPECT_LT(curve, 1e-2 * line) << summary(fit);
  EXPECT_LT(fit.integrated_loss_final, fit.integrated_loss_initial);
  // The reported profile is that of the returned control points: an independent evaluation of
  // the curve at t* reproduces the maximum.
  const MatrixXd& c = fit.curve.control_points();
  const double t = fit.profile.t_max;
  const VectorXd at_t =
      (1 - t) * (1 - t) * c.row(0) + 2 * t * (1 - t) * c.row(1) + t * t * c.row(2);
  EXPECT_NEAR(loss.loss(at_t), fit.profile.loss_max, 1e-12 * std::max(1.0, fit.profile.loss_max));
  EXPECT_EQ(c.row(0).transpose(), p.a);
  EXPECT_EQ(c.row(2).transpose(), p.b);
  EXPECT_EQ(fit.loss_max_history.size(), size_t(fit.rounds));
}

TEST(CurveFit, RejectsBadInput) {
  const PermutedPair p = permuted_pair();
  const Objective loss(p.model, p.data);
  EXPECT_THROW(fit_curve(loss, p.a, p.a), std::invalid_argument);
  EXPECT_THROW(fit_curve(loss, p.a, p.b, {.kind = PathKind::polyline}), std::invalid_argument);
  EXPECT_THROW(fit_curve(loss, p.a, p.b, {.bends = 2}), std::invalid_argument);
  try {
    CurveFitOptions o;
    curve_fit_table().set_text(o, "points", "1");
    o.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(curve_fit_table().rephrase(e, options::Interface::cli),
              "--points must be >= 2, got 1");
  }
}

}  // namespace
}  // namespace locus::paths
