#pragma once
// Symmetric test operators that are not Hessians, with known spectra, for the operator front
// ends of the spectral and trace routines (they model locus::SymmetricOperator).

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "locus/core/problem.hpp"
#include "locus/core/random.hpp"

namespace locus::testing {

// The Toeplitz tridiagonal matrix tridiag(b, a, b) of size n, matrix-free. Its eigenvalues are
// known in closed form: a + 2 b cos(k pi / (n + 1)), k = 1..n.
struct TridiagonalOperator {
  using Scalar = double;
  Eigen::Index n;
  double a, b;
  Eigen::Index rows() const { return n; }
  Eigen::Index cols() const { return n; }
  void perform_op(const double* v, double* y) const {
    for (Eigen::Index i = 0; i < n; ++i)
      y[i] = a * v[i] + b * ((i > 0 ? v[i - 1] : 0.0) + (i + 1 < n ? v[i + 1] : 0.0));
  }
  Eigen::VectorXd exact_eigenvalues() const {  // ascending
    Eigen::VectorXd ev(n);
    for (Eigen::Index k = 1; k <= n; ++k)
      ev[k - 1] = a + 2 * b * std::cos(k * M_PI / double(n + 1));
    std::sort(ev.data(), ev.data() + n);
    return ev;
  }
  Eigen::MatrixXd dense() const {
    Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      m(i, i) = a;
      if (i + 1 < n) m(i, i + 1) = m(i + 1, i) = b;
    }
    return m;
  }
};

// A = diag(d) + U U^T with d_i spread evenly over [-1, 2] (indefinite) and a seeded Gaussian
// n x 2 factor U scaled by 1/sqrt(n): an indefinite operator with a well-spread spectrum whose
// reference eigenvalues come from a dense solver.
struct DiagonalPlusLowRank {
  using Scalar = double;
  Eigen::VectorXd d;
  Eigen::MatrixXd u;
  DiagonalPlusLowRank(Eigen::Index n, std::uint64_t seed)
      : d(Eigen::VectorXd::LinSpaced(n, -1.0, 2.0)), u(n, 2) {
    Rng rng(seed);
    for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = rng.normal() / std::sqrt(double(n));
  }
  Eigen::Index rows() const { return d.size(); }
  Eigen::Index cols() const { return d.size(); }
  void perform_op(const double* v, double* y) const {
    const Eigen::Map<const Eigen::VectorXd> x(v, d.size());
    Eigen::Map<Eigen::VectorXd>(y, d.size()) = d.cwiseProduct(x) + u * (u.transpose() * x);
  }
  Eigen::MatrixXd dense() const { return Eigen::MatrixXd(d.asDiagonal()) + u * u.transpose(); }
};

static_assert(SymmetricOperator<TridiagonalOperator>);
static_assert(SymmetricOperator<DiagonalPlusLowRank>);

}  // namespace locus::testing
