#pragma once
// Sard's theorem made concrete (Cooper Thm 2.1): for almost every label perturbation r the level
// set H^{-1}(r) of the residual map is regular. At a degenerate zero-loss point (rank J < l d)
// the labels are moved to y + r (|r_i| <= epsilon, seeded), a zero-loss point of the new problem
// is found from a nearby start (theta + delta, |delta_i| <= start_radius) by Levenberg-Marquardt,
// and rank J is measured there (analysis/jacobian.hpp's rank rule).
//
//   auto s = locus::workflows::sard_check(obj, theta_degenerate, {.seed = 3});
//   // s.rank_before < l d, s.rank_after == l d, s.loss_after ~ 1e-28: s.restored()

#include <Eigen/Core>
#include <cmath>
#include <cstdint>

#include "locus/analysis/jacobian.hpp"
#include "locus/core/objective.hpp"

namespace locus::workflows {

struct SardOptions {
  double epsilon = 1e-3;      // |r|_inf bound of the label perturbation
  double start_radius = 0.1;  // |delta|_inf of the start perturbation (leaves degenerate sets)
  std::uint64_t seed = 0;
  double loss_tolerance = 1e-26;  // the new zero-loss point must reach this
  // Throws std::invalid_argument naming the field: epsilon <= 0, start_radius < 0,
  // loss_tolerance < 0 (or NaN).
  void validate() const;
};
struct SardCheck {
  Index rank_before = 0, rank_after = 0, n_residuals = 0;
  double loss_after = NAN;  // L of the perturbed problem at theta_after
  double epsilon = 0.0;
  analysis::JacobianAnalysis jacobian_after;
  Eigen::VectorXd theta_after;
  // The perturbation repaired a degenerate point: rank J < l d before, = l d after.
  bool restored() const { return rank_before < n_residuals && rank_after == n_residuals; }
};
// Cost: two SVDs of J and one Levenberg-Marquardt run (default LM options, gradient tolerance 0,
// loss tolerance options.loss_tolerance). The LM outcome is reported through loss_after (a run
// that does not reach loss_tolerance shows it there). Throws std::invalid_argument on invalid
// options, a non-squared loss or a wrong-length theta.
SardCheck sard_check(const Objective& objective, const Eigen::VectorXd& theta,
                     const SardOptions& options = {});

}  // namespace locus::workflows
