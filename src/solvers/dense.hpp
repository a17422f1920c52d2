#pragma once
// Private dense linear algebra for the solvers, on LAPACK (OpenBLAS): blocked and threaded,
// several times faster than Eigen's own LLT / SelfAdjointEigenSolver at n ~ 10^3.

#include <Eigen/Core>

namespace locus::solvers::detail {

// Cholesky factorisation A = L L^T of a symmetric matrix (lower triangle read), in place
// (dpotrf). Returns false when A is not (numerically) positive definite.
bool cholesky_in_place(Eigen::MatrixXd& a);
// Solves L L^T x = b with the factor from cholesky_in_place (dpotrs).
Eigen::VectorXd cholesky_solve(const Eigen::MatrixXd& factor, const Eigen::VectorXd& b);

// J J^T (wide = true) or J^T J, both triangles filled. Cost O(m n min(m, n)).
Eigen::MatrixXd gram_matrix(const Eigen::MatrixXd& j, bool wide);
// (The symmetric eigensolver is linalg::symmetric_eigen, src/linalg/eigen.hpp.)

}  // namespace locus::solvers::detail
