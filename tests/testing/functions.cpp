#include "testing/functions.hpp"

#include <stdexcept>
#include <string>

namespace locus::testing {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

void check_terms(std::span<const Index> terms, Index n_terms) {
  for (Index i : terms)
    if (i < 0 || i >= n_terms)
      throw std::invalid_argument("term index " + std::to_string(i) + " is outside [0, " +
                                  std::to_string(n_terms) + ")");
}

}  // namespace

double Rosenbrock::loss(const VectorXd& x) const {
  const double a = 1.0 - x[0], w = x[1] - x[0] * x[0];
  return a * a + 100.0 * w * w;
}

LossGradient Rosenbrock::loss_gradient(const VectorXd& x) const {
  const Index both[] = {0, 1};
  return loss_gradient_terms(x, both);
}

LossGradient Rosenbrock::loss_gradient_terms(const VectorXd& x,
                                             std::span<const Index> terms) const {
  check_terms(terms, n_terms());
  const double a = 1.0 - x[0], w = x[1] - x[0] * x[0];
  LossGradient out{0.0, VectorXd::Zero(2)};
  for (Index i : terms) {
    if (i == 0) {  // (1 - x0)^2
      out.loss += a * a;
      out.gradient[0] += -2.0 * a;
    } else {  // 100 (x1 - x0^2)^2
      out.loss += 100.0 * w * w;
      out.gradient[0] += -400.0 * x[0] * w;
      out.gradient[1] += 200.0 * w;
    }
  }
  return out;
}

VectorXd Rosenbrock::hvp(const VectorXd& x, const VectorXd& v) const {
  const double w = x[1] - x[0] * x[0];
  // H = [[2 + 1200 x0^2 - 400 x1, -400 x0], [-400 x0, 200]].
  const double h00 = 2.0 + 800.0 * x[0] * x[0] - 400.0 * w, h01 = -400.0 * x[0], h11 = 200.0;
  return Eigen::Vector2d(h00 * v[0] + h01 * v[1], h01 * v[0] + h11 * v[1]);
}

VectorXd RosenbrockLeastSquares::residuals(const VectorXd& x) const {
  return Eigen::Vector2d(1.0 - x[0], 10.0 * (x[1] - x[0] * x[0]));
}

MatrixXd RosenbrockLeastSquares::jacobian(const VectorXd& x) const {
  MatrixXd j(2, 2);
  j << -1.0, 0.0, -20.0 * x[0], 10.0;
  return j;
}

double CoshValley::loss(const VectorXd& x) const {
  const double u = x[0] - 2.0 * x[1], s = x[0] + x[1] - 3.0, h = std::sinh(0.5 * u);
  return 2.0 * h * h + 0.5 * s * s;
}

LossGradient CoshValley::loss_gradient(const VectorXd& x) const {
  const Index both[] = {0, 1};
  return loss_gradient_terms(x, both);
}

LossGradient CoshValley::loss_gradient_terms(const VectorXd& x,
                                             std::span<const Index> terms) const {
  check_terms(terms, n_terms());
  const double u = x[0] - 2.0 * x[1], s = x[0] + x[1] - 3.0;
  LossGradient out{0.0, VectorXd::Zero(2)};
  for (Index i : terms) {
    if (i == 0) {  // cosh(u) - 1 = 2 sinh(u/2)^2, grad = sinh(u) (1, -2)
      const double h = std::sinh(0.5 * u);
      out.loss += 2.0 * h * h;
      out.gradient[0] += std::sinh(u);
      out.gradient[1] += -2.0 * std::sinh(u);
    } else {  // s^2 / 2, grad = s (1, 1)
      out.loss += 0.5 * s * s;
      out.gradient[0] += s;
      out.gradient[1] += s;
    }
  }
  return out;
}

MatrixXd CoshValley::hessian(const VectorXd& x) const {
  const double c = std::cosh(x[0] - 2.0 * x[1]);
  MatrixXd h(2, 2);
  h << c + 1.0, -2.0 * c + 1.0, -2.0 * c + 1.0, 4.0 * c + 1.0;
  return h;
}

}  // namespace locus::testing
