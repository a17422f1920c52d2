#include "linalg/inertia.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace locus::linalg {

double zero_eigenvalue_tolerance(Eigen::Index n, double factor, double norm) {
  return factor * double(n) * std::numeric_limits<double>::epsilon() * norm;
}

Inertia inertia(const Eigen::VectorXd& lambda, Eigen::Index n, double factor) {
  constexpr double k_inf = std::numeric_limits<double>::infinity();
  Inertia c;
  const double norm = lambda.size() ? lambda.cwiseAbs().maxCoeff() : 0.0;
  c.tolerance = zero_eigenvalue_tolerance(n, factor, norm);
  double max_zero = 0.0, min_nonzero = k_inf;
  for (Eigen::Index i = 0; i < lambda.size(); ++i) {
    const double a = std::abs(lambda[i]);
    if (a <= c.tolerance) {
      ++c.zero;
      max_zero = std::max(max_zero, a);
    } else if (a > c.tolerance) {
      min_nonzero = std::min(min_nonzero, a);
      (lambda[i] > 0 ? c.positive : c.negative) += 1;
    }
  }
  if (c.zero == 0)
    c.gap = k_inf;
  else if (min_nonzero == k_inf)
    c.gap = 0.0;
  else
    c.gap = min_nonzero / std::max(max_zero, 1e-300);
  return c;
}

}  // namespace locus::linalg
