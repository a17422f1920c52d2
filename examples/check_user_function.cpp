// Bring your own function: anything with n_params(), loss(x) and loss_gradient(x) models
// locus::DifferentiableFunction (locus/core/problem.hpp); add hvp(x, v) for second-order
// methods and residuals/jacobian for least-squares ones. Before handing a hand-written gradient
// to a solver, check it: locus::analysis::check_derivatives compares it with central
// differences, with a tolerance derived from eps and the function's own scale, and names the
// coordinate that disagrees most.
//
// The program checks a correct Rosenbrock function (must pass) and one with a deliberate slip
// in the gradient (must fail, at coordinate 1), and exits 1 if either verdict is wrong.
//
//   build/examples/example_check_user_function

#include <cstdio>

#include "locus/analysis/derivative_check.hpp"

// f(x) = (1 - x0)^2 + 100 (x1 - x0^2)^2, minimum 0 at (1, 1).
struct Rosenbrock {
  double slip = 0.0;  // a mistake in the hand-written gradient, for the demonstration

  locus::Index n_params() const { return 2; }
  double loss(const Eigen::VectorXd& x) const {
    return (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]);
  }
  locus::LossGradient loss_gradient(const Eigen::VectorXd& x) const {
    Eigen::VectorXd g(2);
    g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]);
    g[1] = (200 + slip) * (x[1] - x[0] * x[0]);  // the slip: 201 instead of 200
    return {loss(x), g};
  }
  Eigen::VectorXd hvp(const Eigen::VectorXd& x, const Eigen::VectorXd& v) const {
    const double h00 = 2 - 400 * (x[1] - 3 * x[0] * x[0]), h01 = -400 * x[0], h11 = 200;
    return Eigen::Vector2d(h00 * v[0] + h01 * v[1], h01 * v[0] + h11 * v[1]);
  }
};
static_assert(locus::TwiceDifferentiableFunction<Rosenbrock>);

int main() {
  const Eigen::Vector2d x(-1.2, 1.0);  // the classical starting point

  const auto good = locus::analysis::check_derivatives(Rosenbrock{}, x);
  std::printf("correct gradient: %s\n%s", good.message.c_str(),
              locus::analysis::summary(good).c_str());

  const auto bad = locus::analysis::check_derivatives(Rosenbrock{.slip = 1.0}, x);
  std::printf("\nwith a slip: %s\n%s", bad.message.c_str(), locus::analysis::summary(bad).c_str());

  const bool ok = good.passed && !bad.passed && bad.comparisons[0].worst_coordinate == 1;
  return ok ? 0 : 1;
}
