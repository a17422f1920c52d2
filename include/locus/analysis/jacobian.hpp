#pragma once
// The residual Jacobian J = dr/dtheta (l d x n) of a squared loss at a point, certified: its
// rank with the tolerance that decided it and the singular-value gap behind it, the dimension
// n - rank J of the zero set, and the tangent / normal bases.
//
//   locus::Objective obj(model, data);
//   auto j = locus::analysis::analyze_jacobian(obj, theta, {.bases = true});
//   // j.rank == l*d at a regular zero-loss point; j.tangent_basis spans ker J (n x (n - rank))
//
// Rank rule: rank J counts sigma_k > tau_J = factor * max(l d, n) * eps * sigma_max (factor 1
// is the LAPACK/NumPy matrix_rank convention: the round-off of an SVD is ~ eps sigma_max per
// entry summed over max(l d, n)). The gap sigma_rank / sigma_{rank+1} says how clear it is.

#include <Eigen/Core>
#include <string>

#include "locus/core/objective.hpp"

namespace locus::analysis {

struct JacobianOptions {
  // tau_J = tolerance_factor * max(l d, n) * eps * sigma_max (1: the LAPACK/NumPy convention).
  double tolerance_factor = 1.0;
  // Also return orthonormal tangent (ker J, n x (n - r)) and normal (n x r) bases.
  bool bases = false;
  // J is not formed when l*d*n*8 bytes exceed this (huge nets): the result says so.
  double max_bytes = 4.0 * (1ull << 30);
};

struct JacobianAnalysis {
  bool computed = false;
  std::string skipped_reason;  // why J was not formed (memory) or the SVD failed, when !computed
  Index rows = 0, cols = 0;    // l d, n
  Index rank = 0;
  double tolerance = 0.0;  // tau_J
  double sigma_max = 0.0;
  // sigma_rank / sigma_{rank+1}: inf when rank = min(rows, cols) (nothing dropped), 0 if rank 0.
  double gap = 0.0;
  Eigen::VectorXd singular_values;  // all min(l d, n), descending
  Index local_dimension = 0;        // n - rank: dim of the zero set at a regular zero-loss point
  bool full_row_rank = false;       // rank == l d: 0 is a regular value of the residual map here
  Eigen::MatrixXd tangent_basis, normal_basis;  // when options.bases
};
// One SVD of J (LAPACK dgesdd; full V only with bases). Cost O(l d n min(l d, n)), memory
// 8 l d n bytes (plus 8 n^2 with bases). Not computed (computed = false, skipped_reason says
// why) when J exceeds options.max_bytes or the SVD fails (NaN in J). Throws
// std::invalid_argument for a non-squared loss or a wrong-length theta.
JacobianAnalysis analyze_jacobian(const Objective& objective, const Eigen::VectorXd& theta,
                                  const JacobianOptions& options = {});

// Eigenvalues of the Gauss-Newton matrix 2c J^T J, ascending, from the singular values of J
// (n - min(l d, n) exact zeros are included). Cost as analyze_jacobian. Throws
// std::invalid_argument when J cannot be analysed (see analyze_jacobian).
Eigen::VectorXd gauss_newton_spectrum(const Objective& objective, const Eigen::VectorXd& theta);

}  // namespace locus::analysis
