#pragma once
// Independent references for derivative tests: central finite differences, from the library's
// public derivative checker (locus/analysis/derivative_check.hpp).

#include <Eigen/Core>
#include <functional>

#include "locus/analysis/derivative_check.hpp"

namespace locus::testing {

// h = cbrt(eps) * max(1, |x|): balances O(h^2) truncation against O(eps/h) rounding, giving
// ~eps^(2/3) ~ 4e-11 relative accuracy for functions of order 1.
using analysis::central_difference_gradient;
using analysis::central_difference_jacobian;
inline double central_step(double x) { return analysis::central_difference_step(x); }

// max_i |a_i - b_i| / max(1, max_i |b_i|): relative to the reference's scale, so that tiny
// entries near zero are judged against the magnitude of the whole vector.
double max_scaled_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& reference);

}  // namespace locus::testing
