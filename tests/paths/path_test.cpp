// Paths, loss profiles and barriers (locus/paths/path.hpp), against closed forms.

#include "locus/paths/path.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "testing/functions.hpp"
#include "testing/random_data.hpp"
#include "testing/tolerances.hpp"

namespace locus::paths {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::k_eps;

// The parameter vector of model with hidden neurons i and j of the first hidden layer swapped:
// rows i, j of W_0 and entries i, j of b_0, columns i, j of W_1. The network computes the same
// function (up to the order of the sums in W_1 h).
VectorXd swap_hidden_neurons(const Mlp& model, VectorXd theta, Index i, Index j) {
  const LayerSlice& l0 = model.layer(0);
  const LayerSlice& l1 = model.layer(1);
  for (Index c = 0; c < l0.in; ++c)
    std::swap(theta[l0.weight_offset + i * l0.in + c], theta[l0.weight_offset + j * l0.in + c]);
  if (l0.bias_offset >= 0) std::swap(theta[l0.bias_offset + i], theta[l0.bias_offset + j]);
  for (Index r = 0; r < l1.out; ++r)
    std::swap(theta[l1.weight_offset + r * l1.in + i], theta[l1.weight_offset + r * l1.in + j]);
  return theta;
}

// Bezier and polyline evaluation are sums of 2-3 scaled vectors: their rounding is a few ulps of
// the largest |control point| (entries here are O(1)), 8 eps leaves margin.
TEST(Path, BezierMatchesClosedForm) {
  const VectorXd a = VectorXd::LinSpaced(5, -1.0, 2.0), b = VectorXd::LinSpaced(5, 3.0, -0.5),
                 c = VectorXd::LinSpaced(5, 0.25, 1.5);
  const Path p = Path::bezier(a, b, c);
  EXPECT_EQ(p.kind(), PathKind::bezier);
  EXPECT_EQ(p.breakpoints().size(), 2);
  for (double t : {0.0, 0.1, 0.37, 0.5, 0.93, 1.0}) {
    const VectorXd expected = (1 - t) * (1 - t) * a + 2 * t * (1 - t) * b + t * t * c;
    EXPECT_LE((p.at(t) - expected).cwiseAbs().maxCoeff(), 8 * k_eps * 3.0) << "t = " << t;
    EXPECT_NEAR(p.weights(t).sum(), 1.0, 4 * k_eps);
  }
  EXPECT_EQ(p.at(0.0), a);
  EXPECT_EQ(p.at(1.0), c);
}

TEST(Path, PolylineIsUniformPerSegment) {
  MatrixXd v(4, 2);
  v << 0, 0, 1, 0, 1, 2, 4, 2;  // segments of lengths 1, 2, 3
  const Path p = Path::polyline(v);
  const VectorXd br = p.breakpoints();
  ASSERT_EQ(br.size(), 4);
  for (Index k = 0; k < 4; ++k) {
    EXPECT_NEAR(br[k], double(k) / 3.0, k_eps);
    EXPECT_LE((p.at(br[k]) - v.row(k).transpose()).cwiseAbs().maxCoeff(), 8 * k_eps * 4.0);
  }
  // The middle of segment 1 (t = 1/2) is the midpoint of v1 and v2 whatever the lengths.
  EXPECT_LE((p.at(0.5) - Eigen::Vector2d(1.0, 1.0)).cwiseAbs().maxCoeff(), 8 * k_eps * 4.0);
  EXPECT_DOUBLE_EQ(p.control_polygon_length(), 6.0);
  // A polychain with the same points is the same curve.
  const Path chain =
      Path::polychain(v.row(0).transpose(), v.middleRows(1, 2), v.row(3).transpose());
  EXPECT_EQ(chain.kind(), PathKind::polychain);
  for (double t : {0.1, 0.4, 0.8}) EXPECT_EQ(chain.at(t), p.at(t));
}

TEST(Path, RejectsBadInput) {
  const VectorXd a = VectorXd::Zero(3), b = VectorXd::Ones(4);
  EXPECT_THROW(Path::line(a, b), std::invalid_argument);
  EXPECT_THROW(Path::polyline(MatrixXd::Zero(1, 3)), std::invalid_argument);
  VectorXd nan = a;
  nan[1] = std::nan("");
  EXPECT_THROW(Path::bezier(a, nan, a), std::invalid_argument);
  EXPECT_THROW(Path::polychain(a, MatrixXd::Zero(0, 3), a), std::invalid_argument);
  EXPECT_THROW(Path::line(a, a).at(1.5), std::invalid_argument);
  EXPECT_THROW(parse_path_kind("spline"), std::invalid_argument);
  EXPECT_EQ(parse_path_kind("line"), PathKind::polyline);
}

// Hand-computed: L_0 = 1, L_1 = 3, t* = 1/4, L_max = 5 (all exact in binary).
TEST(Barriers, ThreeConventions) {
  const Barriers b = barriers(1.0, 3.0, 0.25, 5.0);
  EXPECT_EQ(b.above_larger_end, 2.0);     // 5 - max(1, 3)
  EXPECT_EQ(b.above_interpolation, 3.5);  // 5 - (0.75 * 1 + 0.25 * 3)
  EXPECT_EQ(b.above_mean, 3.0);           // 5 - (1 + 3) / 2
}

// The double well f(x) = (x^2 - 1)^2 along x = -1 + 2.2 t: maximum f = 1 at x = 0, t* = 1/2.2
// (not on the grid), ends f(-1) = 0 and f(1.2) = 0.44^2.
TEST(LossProfile, QuarticMaximumLocated) {
  auto f = [](const VectorXd& x) { return std::pow(x[0] * x[0] - 1.0, 2); };
  const Path line = Path::line(VectorXd::Constant(1, -1.0), VectorXd::Constant(1, 1.2));
  const ProfileOptions o;
  const LossProfile p = loss_profile(f, line, o);
  ASSERT_EQ(p.status, ProfileStatus::converged) << p.message;
  const double t_star = 1.0 / 2.2, l1 = 0.44 * 0.44;
  // The bracket holds t*, so |t_max - t*| <= t_bracket <= t_tolerance.
  EXPECT_LE(std::abs(p.t_max - t_star), o.t_tolerance);
  // L_max <= 1 up to rounding of f near 1 (a few eps); 1 - L_max = 2 (2.2)^2 (t - t*)^2 <= 1e-11
  // for |t - t*| <= 1e-6, within loss_tolerance.
  EXPECT_LE(p.loss_max, 1.0 + 4 * k_eps);
  EXPECT_LE(1.0 - p.loss_max, o.loss_tolerance);
  EXPECT_EQ(p.loss_start, 0.0);
  EXPECT_NEAR(p.loss_end, l1, 4 * k_eps);
  // Barriers from the exact values, within the same loss_tolerance; the interpolation convention
  // also moves with t*: by |L_1 - L_0| |t_max - t*| <= l1 t_tolerance.
  EXPECT_NEAR(p.barriers.above_larger_end, 1.0 - l1, o.loss_tolerance);
  EXPECT_NEAR(p.barriers.above_interpolation, 1.0 - t_star * l1,
              o.loss_tolerance + l1 * o.t_tolerance);
  EXPECT_NEAR(p.barriers.above_mean, 1.0 - l1 / 2, o.loss_tolerance);
  // The samples are sorted and include the grid.
  for (Index i = 1; i < p.t.size(); ++i) EXPECT_LT(p.t[i - 1], p.t[i]);
  EXPECT_GE(p.evaluations, o.points);
  EXPECT_EQ(p.t.size(), p.evaluations);
}

// Rosenbrock along x1 = 1, x0 = -1 + 2t: f = (1 - x0)^2 + 100 (1 - x0^2)^2 has f' = 0 where
// 400 x0^2 + 400 x0 + 2 = 0; its maximum on [-1, 1] is at x0* = (-1 + sqrt(0.98)) / 2.
TEST(LossProfile, RosenbrockMaximumLocated) {
  const testing::Rosenbrock rosenbrock;
  const Path line = Path::line(Eigen::Vector2d(-1.0, 1.0), Eigen::Vector2d(1.0, 1.0));
  const ProfileOptions o{.t_tolerance = 1e-8};
  const LossProfile p = loss_profile(rosenbrock, line, o);
  ASSERT_EQ(p.status, ProfileStatus::converged) << p.message;
  const double x0 = (-1.0 + std::sqrt(0.98)) / 2.0, t_star = (x0 + 1.0) / 2.0;
  const double f_star = (1 - x0) * (1 - x0) + 100 * std::pow(1 - x0 * x0, 2);
  EXPECT_LE(std::abs(p.t_max - t_star), o.t_tolerance);
  // f ~ 101 is rounded to a few ulps (4 eps * 101); the second-order gap is
  // |f''| (2 dt)^2 / 2 ~ 800 * 4e-16 / 2, far below the tolerance.
  EXPECT_LE(f_star - p.loss_max, o.loss_tolerance * f_star);
  EXPECT_LE(p.loss_max - f_star, 4 * k_eps * f_star);
  EXPECT_EQ(p.loss_start, 4.0);
  EXPECT_EQ(p.loss_end, 0.0);
}

TEST(LossProfile, MonotoneProfileHasMaxAtEnd) {
  auto f = [](const VectorXd& x) { return x.squaredNorm(); };
  const LossProfile p = loss_profile(f, Path::line(VectorXd::Zero(2), VectorXd::Ones(2)));
  EXPECT_EQ(p.status, ProfileStatus::max_at_end);
  EXPECT_TRUE(p.converged());
  EXPECT_EQ(p.t_max, 1.0);
  EXPECT_EQ(p.barriers.above_larger_end, 0.0);
}

TEST(LossProfile, ReportsRefinementLimitAndNonFiniteLoss) {
  auto f = [](const VectorXd& x) { return std::sin(3.0 * x[0]); };
  const Path line = Path::line(VectorXd::Zero(1), VectorXd::Ones(1));
  const LossProfile p = loss_profile(f, line, {.max_refinements = 3});
  EXPECT_EQ(p.status, ProfileStatus::max_refinements) << p.message;
  EXPECT_FALSE(p.converged());
  EXPECT_EQ(p.evaluations, 33 + 3);
  // The refinement of the maximum at t = pi / 6 must still bracket it.
  EXPECT_LE(std::abs(p.t_max - M_PI / 6), p.t_bracket);

  auto g = [](const VectorXd& x) { return x[0] > 0.5 ? NAN : 0.0; };
  EXPECT_EQ(loss_profile(g, line).status, ProfileStatus::non_finite);
}

TEST(LossProfile, RejectsBadInput) {
  const testing::Rosenbrock rosenbrock;
  EXPECT_THROW(loss_profile(rosenbrock, Path::line(VectorXd::Zero(3), VectorXd::Ones(3))),
               std::invalid_argument);
  auto f = [](const VectorXd& x) { return x[0]; };
  const Path line = Path::line(VectorXd::Zero(1), VectorXd::Ones(1));
  EXPECT_THROW(loss_profile(f, line, {.points = 1}), std::invalid_argument);
  EXPECT_THROW(loss_profile(f, line, {.t_tolerance = 0.0}), std::invalid_argument);
  try {
    ProfileOptions o;
    profile_table().set_text(o, "points", "1");
    o.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(profile_table().rephrase(e, options::Interface::cli), "--points must be >= 2, got 1");
  }
}

// A teacher [3, 4, 1] and the same teacher with hidden neurons 0 and 2 swapped are both global
// minima (loss 0 up to the rounding of reordered sums) of the data it labels; the straight line
// between them averages unlike neurons and leaves the zero set: a positive barrier.
TEST(LossProfile, PermutedTeacherHasPositiveBarrier) {
  const Mlp model(MlpSpec{.widths = {3, 4, 1}});
  const VectorXd teacher = model.init_parameters({.scheme = InitScheme::normal, .seed = 5});
  Dataset data = testing::random_data(40, 3, 1, 6);
  data.y = model.predict(teacher, data.x);
  const Objective objective(model, data);
  const VectorXd permuted = swap_hidden_neurons(model, teacher, 0, 2);
  ASSERT_GT((permuted - teacher).norm(), 0.1);
  const LossProfile p = loss_profile(objective, Path::line(teacher, permuted));
  ASSERT_TRUE(p.converged()) << p.message;
  // Each residual of the permuted network is a reordered sum of O(|y|) = O(1) terms: a few ulps,
  // so the sum of 40 squares is far below 1e-25.
  EXPECT_LT(p.loss_start, 1e-25);  // the labels come from predict, the loss from its own pass
  EXPECT_LT(p.loss_end, 1e-25);
  // The barrier is the loss of a network far from both ends; it is O(1) relative to the data's
  // scale |y|^2 (we only need it clearly above the rounding of the ends).
  EXPECT_GT(p.barriers.above_larger_end, 1e-3 * data.y.squaredNorm());
  EXPECT_GT(p.t_max, 0.0);
  EXPECT_LT(p.t_max, 1.0);
  const io::Json j = to_json(p);
  EXPECT_EQ(j["status"], "converged");
  EXPECT_EQ(j["t"].size(), size_t(p.evaluations));
  EXPECT_NE(summary(p).find("above the larger end"), std::string::npos);
}

}  // namespace
}  // namespace locus::paths
