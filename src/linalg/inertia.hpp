#pragma once
// Inertia of a symmetric matrix from its eigenvalues, with the one zero-eigenvalue rule of
// locus (private): tau = factor * n * eps * max_i |lambda_i|, and |lambda| <= tau counts as zero.
// The backward error of a symmetric eigensolver is ~ n eps |A|_2, and a dense Hessian's own
// entries carry round-off of the same order, so eigenvalues below tau are indistinguishable from
// 0; factor (10 by default in the analysis layer) leaves room for the accumulation constants.

#include <Eigen/Core>

namespace locus::linalg {

// The zero threshold tau = factor * n * eps * norm, with norm = max_i |lambda_i| (|A|_2 for a
// complete spectrum) and n the size of the matrix (not the number of eigenvalues given).
double zero_eigenvalue_tolerance(Eigen::Index n, double factor, double norm);

struct Inertia {
  Eigen::Index positive = 0, zero = 0, negative = 0;
  double tolerance = 0.0;  // tau used
  // min{|lambda| > tau} / max{|lambda| <= tau}: inf when no eigenvalue is zero, 0 when none is
  // non-zero. A count is a claim only when the gap is large (>> 1).
  double gap = 0.0;
};

// Counts lambda > tau, |lambda| <= tau, lambda < -tau with tau = zero_eigenvalue_tolerance(n,
// factor, max|lambda|). O(size). NaN eigenvalues count as none of the three.
Inertia inertia(const Eigen::VectorXd& eigenvalues, Eigen::Index n, double factor);

}  // namespace locus::linalg
