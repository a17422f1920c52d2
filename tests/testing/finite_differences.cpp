#include "testing/finite_differences.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace locus::testing {

double central_step(double x) {
  return std::cbrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, std::abs(x));
}

Eigen::VectorXd central_difference_gradient(const std::function<double(const Eigen::VectorXd&)>& f,
                                            const Eigen::VectorXd& x) {
  Eigen::VectorXd g(x.size());
  Eigen::VectorXd y = x;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double h = central_step(x[i]);
    y[i] = x[i] + h;
    const double fp = f(y);
    y[i] = x[i] - h;
    const double fm = f(y);
    y[i] = x[i];
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

Eigen::MatrixXd central_difference_jacobian(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x) {
  Eigen::MatrixXd jac;
  Eigen::VectorXd y = x;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double h = central_step(x[i]);
    y[i] = x[i] + h;
    const Eigen::VectorXd fp = f(y);
    y[i] = x[i] - h;
    const Eigen::VectorXd fm = f(y);
    y[i] = x[i];
    if (i == 0) jac.resize(fp.size(), x.size());
    jac.col(i) = (fp - fm) / (2 * h);
  }
  return jac;
}

double max_scaled_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& reference) {
  const double scale = std::max(1.0, reference.cwiseAbs().maxCoeff());
  return (a - reference).cwiseAbs().maxCoeff() / scale;
}

}  // namespace locus::testing
