#include "locus/manifold/walk.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "locus/constructions/cooper.hpp"
#include "locus/core/random.hpp"
#include "testing/dense_references.hpp"
#include "testing/random_data.hpp"

namespace locus::manifold {
using constructions::construct_cooper;
using constructions::CooperConstruction;
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::random_data;

// A zero-loss point from Cooper's construction.
struct ZeroLossPoint {
  Dataset data;
  CooperConstruction construction;
  Objective objective;
};
ZeroLossPoint cooper_point(Activation a, Index d, Index p, Index l, Index width, int depth,
                           std::uint64_t seed) {
  Dataset data = random_data(d, p, l, seed);
  CooperConstruction c = construct_cooper(data, {.activation = a, .depth = depth, .width = width});
  Objective obj(Mlp(c.spec), data);
  return {std::move(data), std::move(c), std::move(obj)};
}

// Issue 6, acceptance 2: the walk keeps L <= 1e-20 over a path of length >= 1.
TEST(ManifoldWalk, StaysOnTheManifoldOverUnitLength) {
  for (Activation a : {Activation::smoolu, Activation::relu}) {
    for (auto [d, l, width, depth] : std::vector<std::tuple<Index, Index, Index, int>>{
             {10, 1, 12, 1}, {8, 2, 8, 2}, {20, 1, 20, 1}}) {
      const ZeroLossPoint z = cooper_point(a, d, 4, l, width, depth, 17 + d);
      ASSERT_TRUE(z.construction.ok()) << z.construction.message;
      const WalkResult w = walk_manifold(z.objective, z.construction.theta,
                                         {.steps = 40, .seed = 3, .record_path = true});
      ASSERT_EQ(w.status, WalkStatus::completed) << w.message;
      EXPECT_GE(w.arc_length, 1.0) << w.message;
      EXPECT_LE(w.loss_max, 1e-20) << w.message;
      EXPECT_EQ(w.rank_min, l * d);
      EXPECT_EQ(w.rank_max, l * d);
      ASSERT_EQ(w.path.cols(), static_cast<Index>(w.steps.size()));
      // Re-evaluate every recorded point independently, and check the walk went somewhere
      // (a path that doubled back on itself would have a small end-to-end distance).
      for (Index k = 0; k < w.path.cols(); ++k)
        EXPECT_LE(z.objective.loss(w.path.col(k)), 1e-20) << "point " << k;
      EXPECT_GT(w.steps.back().distance_from_start, 0.5 * w.arc_length);
      EXPECT_DOUBLE_EQ(w.steps.back().arc_length, w.arc_length);
    }
  }
}

// The comparison the study plots: along a random straight line of the walk's length the loss
// grows far above round-off (a random direction has a component ~ sqrt(l d / n) normal to M).
TEST(ManifoldWalk, RandomStraightLineLeavesTheManifold) {
  const ZeroLossPoint z = cooper_point(Activation::smoolu, 10, 3, 1, 10, 1, 5);
  const WalkResult w = walk_manifold(z.objective, z.construction.theta, {.steps = 30});
  ASSERT_EQ(w.status, WalkStatus::completed) << w.message;
  const LineLoss line = loss_along_line(z.objective, z.construction.theta,
                                        random_unit_direction(z.objective.n_params(), 11),
                                        {.length = w.arc_length, .n_points = 21});
  ASSERT_EQ(line.t.size(), 21);
  EXPECT_DOUBLE_EQ(line.t(20), w.arc_length);
  EXPECT_LE(line.loss(0), 1e-20);
  EXPECT_GT(line.loss(20), 1e-3);
  EXPECT_GT(line.loss(20), 1e15 * w.loss_max);
  // The loss along the line is the objective's loss at those points. loss_along_line normalizes
  // the direction again, which can move the last bits of u (|u| = 1 only to rounding, and the
  // norm's summation order depends on the SIMD width); the loss here, ~3e4 with a gradient of
  // the same order, moves by a few ulps with it (7 ulps seen on one CPU): 1e-13 relative.
  const VectorXd u = random_unit_direction(z.objective.n_params(), 11);
  const double expected = z.objective.loss(z.construction.theta + line.t(7) * u);
  EXPECT_NEAR(line.loss(7), expected, 1e-13 * expected);
}

TEST(ManifoldWalk, ReportsAStartThatCannotBeProjected) {
  // [1, 1, 1] cannot fit 6 generic points: the projection stalls at a positive loss.
  const Dataset data = random_data(6, 1, 1, 3);
  const Mlp model({.widths = {1, 1, 1}, .activation = Activation::smoolu, .bias = {}});
  const Objective obj(model, data);
  const WalkResult w = walk_manifold(obj, model.init_parameters({.seed = 1}));
  EXPECT_EQ(w.status, WalkStatus::start_not_on_manifold) << w.message;
}

TEST(ManifoldWalk, ReportsATrivialKernel) {
  // n = 4 parameters, 4 points with targets from the network itself: J is 4 x 4, full rank,
  // so M is a set of isolated points.
  const Mlp model({.widths = {1, 1, 1}, .activation = Activation::softplus, .bias = {}});
  const VectorXd theta = (VectorXd(4) << 0.8, 0.3, 1.2, -0.4).finished();
  Dataset data{MatrixXd(4, 1), MatrixXd(4, 1), "teacher"};
  data.x << -1.0, -0.2, 0.5, 1.7;
  data.y = model.predict(theta, data.x);
  const Objective obj(model, data);
  const WalkResult w = walk_manifold(obj, theta);
  EXPECT_EQ(w.status, WalkStatus::no_tangent) << w.message;
}

TEST(ManifoldWalk, ValidatesOptions) {
  const ZeroLossPoint z = cooper_point(Activation::smoolu, 4, 2, 1, 4, 1, 5);
  const VectorXd& theta = z.construction.theta;
  EXPECT_THROW(walk_manifold(z.objective, theta, {.step_size = 0.0}), std::invalid_argument);
  EXPECT_THROW(walk_manifold(z.objective, theta, {.step_size = 1.0, .max_step_size = 0.5}),
               std::invalid_argument);
  EXPECT_THROW(walk_manifold(z.objective, VectorXd::Zero(3)), std::invalid_argument);
  EXPECT_THROW(loss_along_line(z.objective, theta, VectorXd::Zero(theta.size())),
               std::invalid_argument);
}

// The Gauss-Newton projection reaches M from a nearby point, moving about as far as the point
// was from M (minimum-norm steps: the displacement is ~ the normal component of the offset).
TEST(ManifoldProjection, ConvergesQuadraticallyFromNearbyPoints) {
  const ZeroLossPoint z = cooper_point(Activation::smoolu, 12, 3, 2, 12, 2, 9);
  const VectorXd delta = 1e-3 * random_unit_direction(z.objective.n_params(), 4);
  const ManifoldProjection p = project_to_manifold(z.objective, z.construction.theta + delta);
  // Converged to 1e-26, or stopped at the round-off floor of the residuals (l d = 24 residuals of
  // size ~eps * |f| * d ~ 1e-14 give L ~ 1e-26 .. 1e-25).
  EXPECT_TRUE(p.converged() || p.status == ManifoldProjectionStatus::stalled)
      << to_string(p.status);
  EXPECT_LE(p.loss_final, 1e-24);
  EXPECT_LE(p.iterations, 6);  // quadratic convergence from L ~ 1e-2
  EXPECT_LE((p.theta - z.construction.theta - delta).norm(), 2e-3);
}

// rank J against an independent SVD with the same tolerance convention; and the degenerate
// zero-loss point of PAPERS.md §1 (y = 0, theta = 0: only the output bias moves f, rank J = 1).
TEST(ResidualJacobianRank, MatchesJacobiSvdAndSeesTheDegeneratePoint) {
  const ZeroLossPoint z = cooper_point(Activation::smoolu, 9, 3, 1, 9, 1, 2);
  const ResidualJacobianRank r = residual_jacobian_rank(z.objective, z.construction.theta);
  const MatrixXd J = z.objective.jacobian(z.construction.theta);
  const VectorXd s = testing::jacobi_singular_values(J);
  EXPECT_EQ(r.rank, 9);
  EXPECT_NEAR(r.sigma_max, s(0), 1e-12 * s(0));
  EXPECT_NEAR(r.sigma_min_kept, s(8), 1e-9 * s(0));  // backward error eps * sigma_max

  Dataset zero = random_data(9, 3, 1, 2);
  zero.y.setZero();
  const Mlp model({.widths = {3, 9, 1}, .activation = Activation::smoolu, .bias = {}});
  const Objective obj(model, zero);
  const VectorXd theta = VectorXd::Zero(model.n_params());
  EXPECT_EQ(obj.loss(theta), 0.0);
  EXPECT_EQ(residual_jacobian_rank(obj, theta).rank, 1);
}

// Issue 6, acceptance 2: dim M by projection sampling agrees with n - rank J, at Cooper points
// and at a teacher-student zero-loss point (not built by the construction).
TEST(ManifoldDimension, ProjectionSamplingAgreesWithJacobianRank) {
  struct Case {
    Activation a;
    Index d, p, l, width;
    int depth;
  };
  for (const Case& c :
       {Case{Activation::smoolu, 6, 2, 1, 6, 1}, Case{Activation::relu, 10, 3, 1, 12, 1},
        Case{Activation::smoolu, 5, 3, 2, 5, 2},
        // n = 385, dim M = 373: with K = n samples the smallest tangent singular
        // value fell below the threshold (Marchenko-Pastur); K = 2n does not.
        Case{Activation::smoolu, 12, 4, 1, 12, 3}}) {
    const ZeroLossPoint z = cooper_point(c.a, c.d, c.p, c.l, c.width, c.depth, 21 + c.d);
    const DimensionEstimate e =
        manifold_dimension_by_projection(z.objective, z.construction.theta, {.seed = 1});
    const Index n = z.objective.n_params();
    EXPECT_EQ(e.n_projected, 2 * n);  // the default K = 2n, all projected
    EXPECT_EQ(e.dimension_from_jacobian, n - c.l * c.d);
    EXPECT_EQ(e.dimension, e.dimension_from_jacobian);
    EXPECT_EQ(e.dimension_at_largest_gap, e.dimension);
    // Tangent singular values ~ radius = 1e-4, normal ones ~ curvature * radius^2: the cut must
    // sit in a gap of several decades (measured 4e3 .. 4e4).
    EXPECT_GT(e.gap_ratio, 100.0);
    EXPECT_LE(e.loss_max_projected, 1e-20);
  }

  // Teacher = student: y = f_theta(x) for a random smooth network, so theta is a global minimum.
  const Mlp model({.widths = {3, 5, 2}, .activation = Activation::tanh, .bias = {}});
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 3});
  Dataset data = random_data(7, 3, 2, 8);
  data.y = model.predict(theta, data.x);
  const Objective obj(model, data);
  const DimensionEstimate e = manifold_dimension_by_projection(obj, theta, {.seed = 2});
  EXPECT_EQ(e.jacobian.rank, 14);  // l d = 14 < n = 32
  EXPECT_EQ(e.dimension, model.n_params() - 14);
  EXPECT_TRUE(e.agrees());
}

TEST(ManifoldDimension, TangentDirectionIsInTheKernel) {
  const ZeroLossPoint z = cooper_point(Activation::smoolu, 8, 3, 1, 8, 1, 3);
  const VectorXd t = random_tangent_direction(z.objective, z.construction.theta, 5);
  const MatrixXd J = z.objective.jacobian(z.construction.theta);
  EXPECT_NEAR(t.norm(), 1.0, 1e-12);
  // |J t| <= eps-level relative to |J|: t is orthogonal to the row space.
  EXPECT_LE((J * t).norm(), 1e-12 * J.norm());
}

}  // namespace
}  // namespace locus::manifold
