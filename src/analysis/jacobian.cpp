#include "locus/analysis/jacobian.hpp"

#include <stdexcept>

#include "linalg/svd.hpp"

namespace locus::analysis {

using Eigen::MatrixXd;
using Eigen::VectorXd;

JacobianAnalysis analyze_jacobian(const Objective& objective, const VectorXd& theta,
                                  const JacobianOptions& options) {
  objective.require_squared("the Jacobian analysis");
  objective.model().check_parameters(theta);
  JacobianAnalysis a;
  a.rows = objective.n_residuals();
  a.cols = objective.n_params();
  const double bytes = 8.0 * double(a.rows) * double(a.cols);
  if (bytes > options.max_bytes) {
    a.skipped_reason = "J would need " + std::to_string(bytes / (1 << 30)) +
                       " GiB (l d n 8 bytes), above the limit of " +
                       std::to_string(options.max_bytes / (1 << 30)) + " GiB";
    return a;
  }
  // Full V only for the bases: the tangent basis of a wide J needs V's last n - l d columns.
  const linalg::RankedSvd r =
      linalg::ranked_svd(objective.jacobian(theta),
                         options.bases ? linalg::SvdVectors::full : linalg::SvdVectors::none,
                         options.tolerance_factor);
  if (!r.svd.converged) {
    a.skipped_reason = "the SVD of J failed (non-finite entries or no convergence)";
    return a;
  }
  a.computed = true;
  a.singular_values = r.svd.values;
  a.sigma_max = r.decision.sigma_max;
  a.tolerance = r.decision.tolerance;
  a.rank = r.decision.rank;
  a.gap = r.decision.gap;
  a.local_dimension = a.cols - a.rank;
  a.full_row_rank = a.rank == a.rows;
  if (options.bases) {
    a.normal_basis = r.normal_basis();
    a.tangent_basis = r.tangent_basis();
  }
  return a;
}

VectorXd gauss_newton_spectrum(const Objective& objective, const VectorXd& theta) {
  const JacobianAnalysis j = analyze_jacobian(objective, theta);
  if (!j.computed) throw std::invalid_argument("gauss_newton_spectrum: " + j.skipped_reason);
  VectorXd ev = VectorXd::Zero(objective.n_params());
  const Index r = j.singular_values.size();
  ev.tail(r) = (2.0 * objective.scale()) * j.singular_values.reverse().array().square();
  return ev;
}

}  // namespace locus::analysis
