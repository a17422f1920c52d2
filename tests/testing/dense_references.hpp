#pragma once
// Independent dense references from Eigen's own solvers (no LAPACK, no locus code), for tests
// that check locus's spectra, ranks and SVDs. Compiled once here: each instantiation of
// Eigen::JacobiSVD or Eigen::SelfAdjointEigenSolver costs 10-20 s of compile time in every test
// file that would otherwise make its own.

#include <Eigen/Core>

namespace locus::testing {

// The singular values of a, descending: Eigen's two-sided Jacobi SVD (JacobiSVD), accurate to
// ~ eps |a|_2 in each value. O(m n min(m, n)) per sweep.
Eigen::VectorXd jacobi_singular_values(const Eigen::MatrixXd& a);

// The eigenvalues of the symmetric matrix a (its lower triangle is read), ascending: Eigen's
// SelfAdjointEigenSolver (tridiagonalization + implicit QL), accurate to ~ n eps |a|_2. O(n^3).
Eigen::VectorXd symmetric_eigenvalues(const Eigen::MatrixXd& a);

}  // namespace locus::testing
