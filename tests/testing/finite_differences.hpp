#pragma once
// Independent references for derivative tests: central finite differences.

#include <Eigen/Core>
#include <functional>

namespace locus::testing {

// Central-difference step for coordinate value x: h = cbrt(eps) * max(1, |x|) balances the
// O(h^2) truncation error against the O(eps/h) rounding error, giving ~eps^(2/3) ~ 4e-11 relative
// accuracy for functions of order 1.
double central_step(double x);

// g_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h).
Eigen::VectorXd central_difference_gradient(const std::function<double(const Eigen::VectorXd&)>& f,
                                            const Eigen::VectorXd& x);

// Column j ~ (F(x + h e_j) - F(x - h e_j)) / (2h) for a vector function F.
Eigen::MatrixXd central_difference_jacobian(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x);

// max_i |a_i - b_i| / max(1, max_i |b_i|): relative to the reference's scale, so that tiny
// entries near zero are judged against the magnitude of the whole vector.
double max_scaled_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& reference);

}  // namespace locus::testing
