// Every solver on functions that are not MLP losses (locus/core/problem.hpp): Rosenbrock (minimum
// 0 at (1, 1)), its least-squares form for Levenberg-Marquardt, and a convex cosh valley
// (minimum 0 at (2, 1)). Passed directly: each converts to FunctionRef.

#include "testing/functions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "locus/solvers/solve.hpp"
#include "testing/tolerances.hpp"

namespace locus::solvers {
namespace {

using testing::CoshValley;
using testing::k_eps;
using testing::Rosenbrock;
using testing::RosenbrockLeastSquares;

// Round-off tolerances from the function's scale: the gradient near the minimum is computed
// with an error of a few eps * k_gradient_scale (see functions.hpp); 64 of those leaves a wide
// margin on any CPU and instruction set, and stays 1e2 ... 1e3 times below anything a
// non-converged run shows. Near a minimum with smallest Hessian eigenvalue lambda_min,
// |x - x*|_2 <= |g|_2 / lambda_min <= sqrt(2) |g|∞ / lambda_min (factor 2 for the cubic
// terms), and f - f* <= |g|_2^2 / (2 lambda_min) (up to the same factor; both minima are 0, so
// f carries no rounding of its own there).
template <class F>
double gradient_tolerance() {
  return 64.0 * k_eps * F::k_gradient_scale;
}

// Gradient descent and SGD have a floor of their own: x - eta g rounds back to x once
// eta |g_i| < ulp(x_i) / 2, i.e. |g|∞ ~ eps |x*|∞ / eta; 4 of those leave room for the rounding
// of x itself.
template <class F>
double first_order_tolerance(double learning_rate) {
  return std::max(gradient_tolerance<F>(),
                  4.0 * k_eps * F::minimizer().cwiseAbs().maxCoeff() / learning_rate);
}

template <class F>
void expect_minimum(const F& f, const SolveResult& r, double gtol = gradient_tolerance<F>()) {
  EXPECT_TRUE(r.converged()) << summary(r);
  EXPECT_LE(r.gradient_max_norm, gtol) << summary(r);
  const double x_error = (r.theta - F::minimizer()).cwiseAbs().maxCoeff();
  EXPECT_LE(x_error, 2.0 * std::sqrt(2.0) * gtol / F::k_lambda_min)
      << "x = " << r.theta.transpose() << "\n"
      << summary(r);
  EXPECT_LE(r.loss_final - f.loss_min(), gtol * gtol / F::k_lambda_min) << summary(r);
}

// The options of method m with the gradient test set to the function's round-off tolerance.
template <class F>
TrainOptions options_for(Method m, double gtol = gradient_tolerance<F>()) {
  TrainOptions o;
  o.method = m;
  StopCriteria& stop = stop_criteria(o, m);
  stop.gradient_tolerance = gtol;
  // f <= 1e-30 implies |g| ~ sqrt(lambda_max f) ~ 1e-13, below the gradient tolerance.
  stop.loss_tolerance = 1e-30;
  stop.max_iterations = 1000000;
  return o;
}

template <class F>
class EverySolver : public ::testing::Test {};
using Functions = ::testing::Types<Rosenbrock, CoshValley>;
TYPED_TEST_SUITE(EverySolver, Functions);

// Plain gradient descent with a step below 2 / lambda_max along the path (Rosenbrock's Hessian
// reaches lambda_max ~ 1.6e3 near the start, the cosh valley's ~ 5 cosh(5) = 371).
TYPED_TEST(EverySolver, GradientDescentReachesTheMinimum) {
  const TypeParam f;
  const double learning_rate = 1.0 / 2048.0;
  const double gtol = first_order_tolerance<TypeParam>(learning_rate);
  TrainOptions o = options_for<TypeParam>(Method::gd, gtol);
  o.gd.learning_rate = learning_rate;
  expect_minimum(f, solve(f, TypeParam::start(), o), gtol);
}

// SGD with one term per batch: both terms of each function vanish at its minimum, so the batch
// gradients vanish there too and SGD converges to the minimum itself (interpolation), not to a
// noise ball.
TYPED_TEST(EverySolver, SgdWithSingleTermBatchesReachesTheMinimum) {
  const TypeParam f;
  const double learning_rate = 1.0 / 4096.0;
  const double gtol = first_order_tolerance<TypeParam>(learning_rate);
  TrainOptions o = options_for<TypeParam>(Method::sgd, gtol);
  o.sgd.learning_rate = learning_rate;
  o.sgd.batch_size = 1;
  o.sgd.seed = 5;
  expect_minimum(f, solve(f, TypeParam::start(), o), gtol);
}

// Adam with a constant step has no convergence guarantee (its step has size ~ learning_rate
// while |g| / sqrt(v) stays of order one); judged by the decrease over a fixed budget of 20000
// steps: f - f* below 1e-12 of its initial value (measured: both functions reach the gradient
// tolerance after 5000-7000 steps, at f ~ 1e-22 ... 1e-26, i.e. 1e-23 of the start or less).
TYPED_TEST(EverySolver, AdamDecreasesTheLossOverAFixedBudget) {
  const TypeParam f;
  TrainOptions o = options_for<TypeParam>(Method::adam);
  o.adam.learning_rate = 1e-2;
  o.adam.stop.max_iterations = 20000;
  const SolveResult r = solve(f, TypeParam::start(), o);
  EXPECT_LE(r.loss_final - f.loss_min(), 1e-12 * (r.loss_initial - f.loss_min())) << summary(r);
}

TYPED_TEST(EverySolver, LbfgsReachesTheMinimum) {
  const TypeParam f;
  expect_minimum(f, solve(f, TypeParam::start(), options_for<TypeParam>(Method::lbfgs)));
}

// Newton, dense (the Hessian assembled from HVPs for Rosenbrock, the model's own for the cosh
// valley) and matrix-free Steihaug-CG (HVPs, or products with the dense Hessian).
TYPED_TEST(EverySolver, NewtonDenseAndSteihaugReachTheMinimum) {
  const TypeParam f;
  TrainOptions o = options_for<TypeParam>(Method::newton);
  expect_minimum(f, solve(f, TypeParam::start(), o));
  o.newton.dense_max_params = 0;
  expect_minimum(f, solve(f, TypeParam::start(), o));
}

// Both functions have a single critical point, the minimum; the solver converges to the critical
// point near its start.
TYPED_TEST(EverySolver, CriticalPointDenseAndConjugateGradientsFindTheMinimum) {
  const TypeParam f;
  TrainOptions o = options_for<TypeParam>(Method::critical);
  SolveResult r = solve(f, TypeParam::start_near(), o);
  expect_minimum(f, r);
  ASSERT_TRUE(r.inertia.has_value());
  EXPECT_EQ(r.inertia->positive, 2);
  o.critical.dense_max_params = 0;
  expect_minimum(f, solve(f, TypeParam::start_near(), o));
}

// The gradient flow with tight integrator tolerances reaches the round-off tolerance on its own
// (BDF takes long steps once the flow has settled), with the dense and the iterative solver.
TYPED_TEST(EverySolver, GradientFlowReachesTheMinimum) {
  const TypeParam f;
  TrainOptions o = options_for<TypeParam>(Method::flow);
  o.flow.relative_tolerance = 1e-10;
  o.flow.absolute_tolerance = 1e-12;
  for (FlowLinearSolver s : {FlowLinearSolver::dense, FlowLinearSolver::iterative}) {
    o.flow.linear_solver = s;
    expect_minimum(f, solve(f, TypeParam::start(), o));
  }
}

// The pipeline of `locus train`: a loose flow, polished by Newton.
TYPED_TEST(EverySolver, FlowThenNewtonPipelineReachesTheMinimum) {
  const TypeParam f;
  TrainOptions o = options_for<TypeParam>(Method::flow);
  o.flow.stop.gradient_tolerance = 1e-3;
  o.polish = Method::newton;
  o.newton.stop.gradient_tolerance = gradient_tolerance<TypeParam>();
  const SolveResult r = solve(f, TypeParam::start(), o);
  expect_minimum(f, r);
  EXPECT_EQ(r.method, "flow+newton");
}

// Rosenbrock's residuals r = (1 - x0, 10 (x1 - x0^2)): zero-residual least squares, where
// Levenberg-Marquardt converges quadratically (to the loss test, L <= 1e-30, or the gradient
// test), and Newton's hybrid model starts with Gauss-Newton steps.
TEST(RosenbrockLeastSquares, LevenbergMarquardtAndHybridNewtonReachTheMinimum) {
  const RosenbrockLeastSquares f;
  for (Method m : {Method::lm, Method::newton}) {
    TrainOptions o = options_for<Rosenbrock>(m);
    const SolveResult r = solve(f, Rosenbrock::start(), o);
    expect_minimum<Rosenbrock>(f, r);
    EXPECT_LT(r.iterations, 100) << summary(r);
  }
}

// A method given a function without the capability it needs says which member is missing.
TEST(MissingCapability, IsAnInvalidArgumentNamingTheMethodAndTheMember) {
  auto expect_throw = [](auto&& call, const std::string& method, const std::string& member) {
    try {
      call();
      ADD_FAILURE() << "no exception for " << method;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(method), std::string::npos) << what;
      EXPECT_NE(what.find(member), std::string::npos) << what;
    }
  };
  const Eigen::VectorXd x0 = Rosenbrock::start();
  // Rosenbrock has no residuals; a callable-backed function has no second derivatives or terms.
  expect_throw([&] { solve_levenberg_marquardt(Rosenbrock{}, x0); }, "Levenberg-Marquardt",
               "residuals");
  const testing::LambdaFunction plain{
      2, [](const Eigen::VectorXd& x) { return Rosenbrock{}.loss(x); },
      [](const Eigen::VectorXd& x) { return Rosenbrock{}.loss_gradient(x); }};
  expect_throw([&] { solve_newton(plain, x0); }, "Newton", "hvp");
  expect_throw([&] { solve_critical_point(plain, x0); }, "critical", "hessian");
  expect_throw([&] { solve_gradient_flow(plain, x0); }, "gradient flow", "hvp");
  expect_throw([&] { solve_sgd(plain, x0); }, "SGD", "n_terms");
  expect_throw([&] { solve_lbfgs(plain, Eigen::VectorXd::Zero(3)); }, "theta0", "3");
  // ... while first-order methods run on it.
  const SolveResult r = solve_lbfgs(plain, x0);
  EXPECT_LE(r.gradient_max_norm, gradient_tolerance<Rosenbrock>()) << summary(r);
}

}  // namespace
}  // namespace locus::solvers
