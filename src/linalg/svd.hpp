#pragma once
// Singular value decomposition on LAPACK and the numerical rank decided from it, with the gap
// that supports the decision and the tangent / normal bases of the kernel split (private to
// locus). The one rank rule of locus: tau = factor * max(m, n) * eps * sigma_max (factor 1 is the
// LAPACK / NumPy matrix_rank convention: an SVD's round-off is ~ eps sigma_max per entry, summed
// over max(m, n)), rank = #{k : sigma_k > tau}.

#include <Eigen/Core>

namespace locus::linalg {

enum class SvdVectors {
  none,  // singular values only
  thin,  // U (m x p), V (n x p), p = min(m, n)
  full,  // U (m x m), V (n x n): V's last n - p columns complete the kernel basis
};

// A = U diag(values) V^T.
struct Svd {
  bool converged = false;  // false when LAPACK failed (values are then NaN)
  Eigen::VectorXd values;  // min(m, n) singular values, descending
  Eigen::MatrixXd u, v;    // as SvdVectors asks; empty for none
};

// The SVD of an m x n matrix by LAPACK dgesdd (bidiagonalisation + divide and conquer); when
// dgesdd reports non-convergence (rare) it retries with dgesvd (QR iteration). Full factors of a
// non-square matrix come from the thin SVD plus a Householder QR completing the short factor
// (dgeqrf + dorgqr). Cost O(m n min(m, n)) flops (plus O(max(m, n)^2 min(m, n)) for full
// factors), memory a copy of A plus the requested factors. Each sigma_k carries an absolute error
// ~ eps sigma_max. Fails (converged = false, values NaN, no factors) when LAPACK fails or A holds
// NaN/inf.
Svd svd(Eigen::MatrixXd a, SvdVectors vectors);

// The numerical rank of a matrix and the numbers that decided it.
struct RankDecision {
  Eigen::Index rank = 0;
  double tolerance = 0.0;  // tau = factor * max(m, n) * eps * sigma_max
  double sigma_max = 0.0;
  // sigma_rank / sigma_{rank+1}: inf when rank = min(m, n) (nothing dropped), 0 when rank = 0.
  double gap = 0.0;
  double sigma_min_kept = 0.0;       // sigma_rank, 0 when rank = 0
  double sigma_first_dropped = 0.0;  // sigma_{rank+1}, 0 when rank = min(m, n)
};
// Applies the rank rule above to descending singular values of an m x n matrix. O(min(m, n)).
// factor must be > 0 (checked by the callers' options).
RankDecision numerical_rank(const Eigen::VectorXd& singular_values, Eigen::Index rows,
                            Eigen::Index cols, double factor = 1.0);

// An SVD with its numerical rank: the pseudo-inverse, the kernel projection and the bases.
struct RankedSvd {
  Svd svd;
  RankDecision decision;
  // Minimum-norm least-squares solution J^+ r = V_r diag(1/sigma)_r U_r^T r, singular values
  // below tau dropped. Needs thin or full vectors. O(m r + n r).
  Eigen::VectorXd pinv_solve(const Eigen::VectorXd& r) const;
  // The component of v in ker A: v - V_r V_r^T v. Needs thin or full vectors. O(n r).
  Eigen::VectorXd kernel_component(const Eigen::VectorXd& v) const;
  // Orthonormal basis of the row space (span of the first r right singular vectors), n x r.
  Eigen::MatrixXd normal_basis() const;
  // Orthonormal basis of ker A, n x (n - r): the last columns of V. Spans the whole kernel only
  // with full vectors when m < n (a wide matrix's thin V holds just min(m, n) columns).
  Eigen::MatrixXd tangent_basis() const;
};
// svd(a, vectors) followed by numerical_rank(..., factor). Costs as svd.
RankedSvd ranked_svd(const Eigen::MatrixXd& a, SvdVectors vectors, double factor = 1.0);

}  // namespace locus::linalg
