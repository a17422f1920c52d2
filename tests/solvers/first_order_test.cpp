// First-order methods and L-BFGS, judged by loss, gradient and status.

#include "locus/solvers/first_order.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "locus/solvers/lbfgs.hpp"
#include "problems.hpp"
#include "testing/dense_references.hpp"

namespace locus::solvers {
namespace {

// Extreme eigenvalues of the (constant) Hessian of the linear least-squares problem.
struct Curvature {
  double min, max;
};
Curvature curvature(const Objective& objective, const Eigen::VectorXd& x) {
  const Eigen::VectorXd ev = testing::symmetric_eigenvalues(objective.hessian(x));
  return {ev.minCoeff(), ev.maxCoeff()};
}

TEST(GradientDescent, ConvergesOnConvexLeastSquaresWithStepOneOverL) {
  const auto lin = testing::linear_regression(0);
  const Objective obj = lin.problem.objective();
  const Curvature k = curvature(obj, lin.problem.x0);
  GradientDescentOptions o;
  o.learning_rate = 1.0 / k.max;  // eta <= 1/L: monotone decrease, linear rate 1 - mu/L
  o.record_trace = true;
  const SolveResult r = solve_gradient_descent(obj, lin.problem.x0, o);
  ASSERT_EQ(r.status, Status::converged_gradient) << r.message;
  // (up to the rounding of the loss itself once it has converged)
  for (size_t i = 1; i < r.trace.size(); ++i)
    EXPECT_LE(r.trace[i].loss, r.trace[i - 1].loss * (1 + 1e-14));
  // Strong convexity: L - L* <= |g|_2^2 / (2 mu) <= n |g|∞^2 / (2 mu).
  const double bound = r.theta.size() * r.gradient_max_norm * r.gradient_max_norm / (2.0 * k.min);
  EXPECT_LE(r.loss_final - lin.loss_min, bound + 1e-12 * lin.loss_min);
}

TEST(GradientDescent, HeavyBallMomentumAlsoConverges) {
  const auto lin = testing::linear_regression(1);
  const Objective obj = lin.problem.objective();
  const Curvature k = curvature(obj, lin.problem.x0);
  GradientDescentOptions o;
  o.learning_rate = 0.5 / k.max;
  o.momentum = 0.5;
  const SolveResult r = solve_gradient_descent(obj, lin.problem.x0, o);
  EXPECT_EQ(r.status, Status::converged_gradient) << r.message;
  EXPECT_LT(r.loss_final, lin.loss_min * (1 + 1e-9));
}

TEST(GradientDescent, HugeStepDivergesToNonFiniteStatusWithFiniteIterate) {
  const auto lin = testing::linear_regression(2);
  const Objective obj = lin.problem.objective();
  const Curvature k = curvature(obj, lin.problem.x0);
  GradientDescentOptions o;
  o.learning_rate = 100.0 / k.max;  // |1 - eta lambda_max| = 99: the iteration blows up
  const SolveResult r = solve_gradient_descent(obj, lin.problem.x0, o);
  EXPECT_EQ(r.status, Status::non_finite) << r.message;
  EXPECT_TRUE(r.theta.allFinite());
  EXPECT_TRUE(std::isfinite(r.loss_final));
  EXPECT_GT(r.loss_final, r.loss_initial);  // it did diverge before overflowing
}

TEST(Sgd, DecreasesTheLossAndIsReproducibleBySeed) {
  const auto lin = testing::linear_regression(3, 64, 3);
  const Objective obj = lin.problem.objective();
  const Curvature k = curvature(obj, lin.problem.x0);
  SgdOptions o;
  o.learning_rate = 0.2 / k.max;
  o.batch_size = 8;
  o.seed = 11;
  o.stop.max_iterations = 30;
  const SolveResult a = solve_sgd(obj, lin.problem.x0, o);
  const SolveResult b = solve_sgd(obj, lin.problem.x0, o);
  EXPECT_EQ(a.status, Status::max_iterations) << a.message;
  // Constant-step SGD reaches a noise ball around the minimum; the start is far outside it.
  EXPECT_LT(a.loss_final - lin.loss_min, 0.05 * (a.loss_initial - lin.loss_min));
  EXPECT_EQ(a.theta, b.theta);  // bitwise: the seed fixes every batch
  o.seed = 12;
  const SolveResult c = solve_sgd(obj, lin.problem.x0, o);
  EXPECT_NE(a.theta, c.theta);
  EXPECT_EQ(a.counts.gradient, 30 * 8 + 30 + 1);  // 8 batches and one full evaluation per epoch
}

TEST(Sgd, FullBatchEqualsGradientDescentToRoundOff) {
  const auto lin = testing::linear_regression(4, 20, 2);
  const Objective obj = lin.problem.objective();
  SgdOptions s;
  s.learning_rate = 1e-3;
  s.batch_size = 1000;  // >= d: one batch per epoch, the whole data
  s.stop.max_iterations = 20;
  GradientDescentOptions g;
  g.learning_rate = 1e-3;
  g.stop.max_iterations = 20;
  const SolveResult a = solve_sgd(obj, lin.problem.x0, s);
  const SolveResult b = solve_gradient_descent(obj, lin.problem.x0, g);
  // Same iteration, points summed in a shuffled order: agreement to a few ulps per step.
  EXPECT_LT((a.theta - b.theta).cwiseAbs().maxCoeff(),
            1e-12 * (1.0 + b.theta.cwiseAbs().maxCoeff()));
}

TEST(Adam, DecreasesTheLossOnConvexLeastSquares) {
  const auto lin = testing::linear_regression(5);
  const Objective obj = lin.problem.objective();
  AdamOptions o;
  o.learning_rate = 1e-2;
  o.stop.max_iterations = 3000;
  const SolveResult r = solve_adam(obj, lin.problem.x0, o);
  EXPECT_TRUE(r.status == Status::max_iterations || r.converged()) << r.message;
  EXPECT_LT(r.loss_final - lin.loss_min, 1e-3 * (r.loss_initial - lin.loss_min));
}

TEST(Lbfgs, ConvergesToRoundOffOnSmallRealizableTeacherStudent) {
  // [3, 3, 1] teacher and student, d = 30: smooth, realizable, 16 parameters; the global minima
  // are isolated up to the network's symmetries, so L-BFGS converges superlinearly.
  const auto p = testing::realizable_teacher_student(1, 30, 3, 3, 3);
  LbfgsOptions o;
  o.stop.max_iterations = 5000;
  const SolveResult r = solve_lbfgs(p.objective(), p.x0, o);
  // L-BFGS ends at its floor either by the gradient test or by a failed line search.
  EXPECT_TRUE(r.converged() || r.status == Status::line_search_failed) << r.message;
  EXPECT_LT(r.loss_final, 1e-20) << summary(r);
  EXPECT_LT(r.gradient_max_norm, 1e-9) << summary(r);
}

TEST(Lbfgs, ConvergesOnConvexLeastSquares) {
  const auto lin = testing::linear_regression(6);
  const Objective obj = lin.problem.objective();
  // The gradient floor of a method that compares losses. Near the minimiser
  // L(x) - L* ~ |g|^2 / (2 lambda_max) at best, while each loss carries a rounding error of about
  // eps L*; once |g|^2 / (2 lambda_max) < eps L* the Armijo test compares rounding noise and the
  // line search may fail, at a |g| that depends on the CPU's summation order (it was 5.6e-10 on
  // one AVX-512 machine, below 1e-10 on others). So the tolerance is that floor,
  // sqrt(2 lambda_max eps L*), with lambda_max = 2 sigma_max(J)^2 (H = 2 J^T J for a linear
  // model): above it every decrease is resolvable and the gradient test must fire.
  const double sigma_max = testing::jacobi_singular_values(obj.jacobian(lin.problem.x0))(0);
  const double floor = std::sqrt(2.0 * (2.0 * sigma_max * sigma_max) *
                                 std::numeric_limits<double>::epsilon() * lin.loss_min);
  LbfgsOptions o;
  o.stop.gradient_tolerance = floor;
  const SolveResult r = solve_lbfgs(obj, lin.problem.x0, o);
  EXPECT_EQ(r.status, Status::converged_gradient) << r.message;
  EXPECT_LT(r.iterations, 50);  // n = 4 parameters: a handful of quasi-Newton steps
  EXPECT_LT(r.loss_final, lin.loss_min * (1 + 1e-12));
}

}  // namespace
}  // namespace locus::solvers
