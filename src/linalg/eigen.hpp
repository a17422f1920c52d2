#pragma once
// Symmetric eigendecomposition on LAPACK (private to locus).

#include <Eigen/Core>

namespace locus::linalg {

// A = Q diag(values) Q^T for a symmetric A (only its lower triangle is read).
struct SymmetricEigen {
  bool converged = false;   // false when LAPACK reported failure (values are then NaN)
  Eigen::VectorXd values;   // ascending
  Eigen::MatrixXd vectors;  // columns Q(:, k), orthonormal; empty unless requested
};

// Every eigenvalue (and eigenvector when want_vectors) by LAPACK dsyevd (Householder
// tridiagonalisation + divide and conquer); values only by dsyevd_2stage, whose reduction to
// tridiagonal form goes through a band matrix with BLAS-3 updates (measured 1.4-1.7x faster than
// dsyevd at n = 2401, one thread). Cost O(n^3) (about 4/3 n^3 flops without vectors,
// 9 n^3 with), memory the n x n copy plus O(n^2) workspace with vectors, O(n) without. Backward
// stable: the computed values are exact for A + E with |E|_2 ~ n eps |A|_2. Fails (converged =
// false) only if the divide-and-conquer iteration does not converge, or A holds NaN/inf.
SymmetricEigen symmetric_eigen(Eigen::MatrixXd a, bool want_vectors);

// The same (values and vectors) for a small matrix, such as Lanczos's m x m projection, by
// Eigen's Householder tridiagonalisation and implicit symmetric QR on the calling thread: no BLAS
// threads, whose wake-up on a loaded machine costs milliseconds per call (a small Lanczos run
// took 1.4 s instead of 1.4 ms) and whose number can change the bits. O(m^3), for m up to a few
// hundred. Reads the lower triangle; converged = false (values NaN) on NaN/inf or no convergence.
SymmetricEigen small_symmetric_eigen(const Eigen::MatrixXd& a);

}  // namespace locus::linalg
