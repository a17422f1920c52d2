#pragma once
// Classification of a point theta of a loss: global minimum, strict or non-strict minimum,
// saddle with its index, not critical, or undecided, with the tolerances and gaps that decided it
// (analyze_point also returns the Jacobian analysis and the Hessian spectrum behind it).
//
//   locus::Objective obj(model, data);
//   auto a = locus::analysis::analyze_point(obj, theta, {.spectrum = {.method =
//   SpectrumMethod::dense}});
//   // a.jacobian.rank == l*d, a.manifold_dimension == n - l*d, a.hessian.counts.zero == n - l*d,
//   // a.classification == PointClass::global_minimum at an interpolating point (Cooper Prop 2.3)
//   std::cout << locus::analysis::to_json(a).dump(2);
//
// analyze_point only looks: it never moves theta. To drive a point to a certified end state
// first (polish, then classify) use locus::workflows::certify (workflows/certify.hpp).

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <string_view>

#include "locus/analysis/inertia.hpp"
#include "locus/analysis/jacobian.hpp"
#include "locus/analysis/spectrum.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::analysis {

enum class PointClass {
  global_minimum,      // loss <= loss_tolerance (zero loss: a global minimum), Hessian PSD
  strict_minimum,      // critical, Hessian PD with margin (every eigenvalue > tau_H)
  non_strict_minimum,  // critical, Hessian PSD with a zero eigenspace (tau_H) and no negative
  saddle,              // critical, index = number of eigenvalues < -tau_H
  not_critical,        // |grad L|_inf > gradient_tolerance
  undecided,           // spectrum incomplete, gap too small, or the activation is not C^2
};
std::string_view to_string(PointClass c);

struct AnalyzeOptions {
  SpectrumOptions spectrum;
  JacobianOptions jacobian;
  // Critical point: |grad L|_inf <= gradient_tolerance (the solvers reach ~1e-13).
  double gradient_tolerance = 1e-8;
  // Zero loss (a global minimum of the squared loss): L <= loss_tolerance.
  double loss_tolerance = 1e-20;
  // A count decides the class only when its gap is at least this.
  double min_gap = 100.0;
  void validate() const;  // throws std::invalid_argument naming the field
};

// The analysis of one point. It has no separate status/message pair: `classification` is the
// status (`undecided` when the tests cannot decide, e.g. an incomplete spectrum) and `reason` the
// message; the spectrum's own `converged`/`note` say when the eigensolver failed.
struct PointAnalysis {
  double loss = NAN;
  double gradient_max_norm = NAN;
  Index n_params = 0, n_residuals = 0;
  bool at_zero_loss = false;
  JacobianAnalysis jacobian;  // skipped (computed = false) for cross-entropy or huge nets
  // n - rank J when J was analysed: the local dimension of the fibre r^{-1}(r(theta)) of the
  // residual map through theta (where rank J is locally constant), at any point.
  Index fibre_dimension = -1;
  // The same number where it is the dimension of the manifold of global minima M = L^{-1}(0):
  // only at zero loss (the fibre through theta is then M); -1 elsewhere, where n - rank J is not
  // the dimension of any manifold of minima.
  Index manifold_dimension = -1;
  Spectrum hessian;
  // At zero loss: max_k |lambda_(k) - 2c sigma_k(J)^2| / lambda_(k) over the top min(l d, n)
  // eigenvalues (dense spectrum only); NaN otherwise.
  double eigen_vs_gauss_newton_rtol = NAN;
  // The same as max_k |lambda_(k) - 2c sigma_k(J)^2| (absolute). Weyl's inequality bounds it by
  // |H - 2c J^T J| + round-off ~ n eps |H|: compare with hessian.counts.tolerance, which is a
  // meaningful test even where the smallest positive eigenvalue is tiny and rtol is large.
  double eigen_vs_gauss_newton_abs = NAN;
  PointClass classification = PointClass::undecided;
  Index index = 0;     // negative eigenvalues found (saddle index)
  std::string reason;  // one sentence: which test decided the class
};
// Loss and gradient, the Jacobian analysis (squared losses), the Hessian spectrum of
// options.spectrum and the class decided from them, in that order of tests: not critical,
// not C^2 (undecided), spectrum incomplete or zero cluster ambiguous (undecided), saddle, global
// minimum, strict minimum, non-strict minimum. Cost: one gradient, one SVD of J and the
// spectrum's cost. Throws std::invalid_argument on invalid options or a wrong-length theta.
// `progress` gets "gradient", "Jacobian SVD" as each starts, then hessian_spectrum's events.
PointAnalysis analyze_point(const Objective& objective, const Eigen::VectorXd& theta,
                            const AnalyzeOptions& options = {},
                            const ProgressCallback& progress = {});

// {"loss", "gradient_max_norm", "n_params", "n_residuals", "at_zero_loss",
//  "jacobian": {"computed", "rank", "tolerance", "gap", "sigma_max", "full_row_rank", ...},
//  "fibre_dimension" (n - rank J), "manifold_dimension" (the same at zero loss, else null),
//  "hessian": {"method", "positive", "zero", "negative", "tolerance", "gap",
//  "complete", "eigenvalues", ...}, "eigen_vs_gauss_newton_rtol", "classification", "index",
//  "reason"}.
io::Json to_json(const PointAnalysis& a);

}  // namespace locus::analysis
