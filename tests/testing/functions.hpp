#pragma once
// Analytic test functions with a known minimum (ensmallen-style: each knows its answer), used to
// run every solver on functions that are not MLP losses. Each models the concepts of
// locus/core/problem.hpp with a different set of capabilities, so the solvers' fallbacks are
// exercised too.

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <span>

#include "locus/core/problem.hpp"

namespace locus::testing {

// Rosenbrock's banana f(x) = (1 - x0)^2 + 100 (x1 - x0^2)^2, minimum 0 at (1, 1); the Hessian
// there, [[802, -400], [-400, 200]], has eigenvalues 0.399 and 1001.6 (condition ~2500).
// Capabilities: loss, gradient, exact hvp (no dense hessian: solvers assemble it from HVPs), and
// a sum of two terms (SumOfTerms) for SGD.
struct Rosenbrock {
  static constexpr double k_lambda_min = 0.39936;  // smallest Hessian eigenvalue at (1, 1)
  // Largest summand of the gradient near the minimum (|400 x0 (x1 - x0^2)| is tiny, but the
  // rounding of x1 - x0^2 is eps |x1| and is multiplied by 400 x0): the gradient's round-off
  // floor is a few eps * 400.
  static constexpr double k_gradient_scale = 400.0;
  static Eigen::VectorXd minimizer() { return Eigen::Vector2d(1.0, 1.0); }
  static Eigen::VectorXd start() { return Eigen::Vector2d(-1.2, 1.0); }  // the classical start
  // A start for the critical-point solver, which converges to the critical point near its start
  // (from start(), Gauss-Newton on |g|^2 follows the valley away to a non-critical minimizer of
  // |g|^2, as critical_point.hpp warns).
  static Eigen::VectorXd start_near() { return Eigen::Vector2d(0.8, 0.6); }
  double loss_min() const { return 0.0; }

  Index n_params() const { return 2; }
  double loss(const Eigen::VectorXd& x) const;
  LossGradient loss_gradient(const Eigen::VectorXd& x) const;
  Eigen::VectorXd hvp(const Eigen::VectorXd& x, const Eigen::VectorXd& v) const;
  // Terms f_0 = (1 - x0)^2 and f_1 = 100 (x1 - x0^2)^2: both vanish at the minimum, so SGD's
  // noise vanishes there too (interpolation) and SGD converges to it.
  Index n_terms() const { return 2; }
  LossGradient loss_gradient_terms(const Eigen::VectorXd& x, std::span<const Index> terms) const;
};

// Rosenbrock as a least-squares problem: residuals r = (1 - x0, 10 (x1 - x0^2)), f = |r|^2, so
// Levenberg-Marquardt applies (zero residual: quadratic convergence).
struct RosenbrockLeastSquares : Rosenbrock {
  Index n_residuals() const { return 2; }
  Eigen::VectorXd residuals(const Eigen::VectorXd& x) const;
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& x) const;
};

// A convex valley: f(x) = cosh(x0 - 2 x1) - 1 + (x0 + x1 - 3)^2 / 2, minimum 0 at (2, 1), with
// cosh(u) - 1 evaluated as 2 sinh(u/2)^2 (no cancellation near the minimum, so f is accurate to
// a few ulps of itself); the Hessian there is [[2, -1], [-1, 5]] (eigenvalues 1.697 and 5.303).
// Far from the minimum cosh grows exponentially, which tests the globalisation of every method.
// Capabilities: loss, gradient, dense hessian only (no hvp: solvers multiply by the dense
// Hessian), two terms (cosh - 1 and the quadratic, both minimal at (2, 1)), no residuals.
struct CoshValley {
  static constexpr double k_lambda_min = 1.6972;
  // The gradient sums sinh(u) and s with u = x0 - 2 x1 and s = x0 + x1 - 3, whose roundings are
  // about eps (|x0| + 2 |x1|) and eps (|x0| + |x1| + 3) = 4 eps and 6 eps at the minimum.
  static constexpr double k_gradient_scale = 10.0;
  static Eigen::VectorXd minimizer() { return Eigen::Vector2d(2.0, 1.0); }
  static Eigen::VectorXd start() { return Eigen::Vector2d(-1.0, 2.0); }  // f = cosh(5) - 1 = 73.2
  static Eigen::VectorXd start_near() { return Eigen::Vector2d(2.5, 0.5); }
  double loss_min() const { return 0.0; }

  Index n_params() const { return 2; }
  double loss(const Eigen::VectorXd& x) const;
  LossGradient loss_gradient(const Eigen::VectorXd& x) const;
  Eigen::MatrixXd hessian(const Eigen::VectorXd& x) const;
  Index n_terms() const { return 2; }
  LossGradient loss_gradient_terms(const Eigen::VectorXd& x, std::span<const Index> terms) const;
};

// A function made of callables (what a Python binding or a quick experiment provides), with the
// members of DifferentiableFunction only: first-order methods accept it, second-order methods
// reject it with std::invalid_argument.
struct LambdaFunction {
  Index n = 0;
  std::function<double(const Eigen::VectorXd&)> value;
  std::function<LossGradient(const Eigen::VectorXd&)> value_gradient;

  Index n_params() const { return n; }
  double loss(const Eigen::VectorXd& x) const { return value(x); }
  LossGradient loss_gradient(const Eigen::VectorXd& x) const { return value_gradient(x); }
};

}  // namespace locus::testing
