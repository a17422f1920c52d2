#pragma once
// Certify an end state: polish a point with a second-order solver (Levenberg-Marquardt, Newton
// trust region, or Newton on the gradient for saddles) to round-off, then analyse where it
// stopped (analysis/classify.hpp) and report what the point provably is -- global minimum,
// strict or non-strict minimum, saddle with its index -- or that it is not (yet) critical, or
// that the spectrum cannot decide.
//
//   locus::Objective obj(model, data);
//   auto run = locus::solvers::solve(obj, theta0, {.method = locus::solvers::Method::adam});
//   auto c = locus::workflows::certify(obj, run.theta);      // LM polish + dense spectrum
//   // c.status == CertifyStatus::certified, c.analysis.classification == global_minimum,
//   // c.polish.loss_final ~ 1e-30; std::cout << locus::workflows::summary(c);
//
// The certificate rests on analyze_point's tests at the polished point (gradient, loss, the
// inertia with its zero threshold and gap), not on the solver's own stopping test.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>

#include "locus/analysis/classify.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::workflows {

struct CertifyOptions {
  // The polishing solver: lm (zero-residual problems converge quadratically), newton (trust
  // region, drives to minima) or critical (Newton on the gradient: critical points of any index).
  solvers::Method polish = solvers::Method::lm;
  // Options of every method; the one named by polish is used (method and polish are overridden).
  solvers::TrainOptions solver;
  // Options of the analysis at the polished point (spectrum method, tolerances, min_gap).
  analysis::AnalyzeOptions analyze;
  // At a non-strict minimum, walk straight along each zero direction of the Hessian (below):
  // steps s = +-walk_step * max(1, |theta|_inf) along each unit eigenvector of the zero cluster.
  bool walk_zero_directions = true;
  double walk_step = 1e-2;
  // The loss counts as constant along the zero directions when every |L(theta + s v) - L(theta)|
  // <= walk_loss_rtol * max(L(theta), DBL_MIN) (a loss sum carries ~ N eps relative round-off).
  double walk_loss_rtol = 1e-12;
  // Throws std::invalid_argument naming the field: polish not in {lm, newton, critical}, or
  // invalid solver / analysis options.
  void validate() const;
};

enum class CertifyStatus {
  certified,     // the polished point is classified: minimum (global, strict, non-strict) or saddle
  not_critical,  // the polished point fails the gradient test: the polish did not converge
  undecided,     // critical, but the class is undecided (zero cluster ambiguous, spectrum
                 // incomplete, or a non-C^2 activation)
};
std::string_view to_string(CertifyStatus s);

// Whether the loss is constant along the zero directions of a non-strict minimum: a straight
// walk L(theta + s v) for each unit eigenvector v of the Hessian's zero cluster (|lambda| <=
// tau_H) and s = +-step. Exact flat directions (output weights in ker Phi, incoming weights of a
// neuron with zero output weights) are straight lines and give a rise at round-off; a quartic or
// curved valley gives a rise ~ s^4 or s^2 and is reported as not constant.
struct ZeroDirectionWalk {
  bool checked = false;        // false unless the point is a certified non-strict minimum
  Index directions = 0;        // zero eigenvectors walked along
  double step = NAN;           // s
  double loss_rise_max = NAN;  // max over v, +-s of |L(theta + s v) - L(theta)|
  double tolerance = NAN;      // walk_loss_rtol * max(L(theta), DBL_MIN)
  bool loss_constant = false;  // loss_rise_max <= tolerance
};
// {"checked", "directions", "step", "loss_rise_max", "tolerance", "loss_constant"}.
io::Json to_json(const ZeroDirectionWalk& w);

struct Certificate {
  CertifyStatus status = CertifyStatus::undecided;
  std::string message;               // one sentence: the polish outcome and the deciding test
  solvers::SolveResult polish;       // the polishing run; polish.theta is the certified point
  analysis::PointAnalysis analysis;  // analyze_point at polish.theta
  ZeroDirectionWalk walk;            // non-strict minima (options.walk_zero_directions)
};

// Polishes theta with options.polish, then analyze_point(objective, polish.theta, options.analyze).
// Cost: the solver run (LM: one Jacobian + one m x n factorisation per iteration) plus the
// analysis (one SVD of J and the spectrum), and at a non-strict minimum the walk (one dense
// eigendecomposition with vectors, O(n^3), and 2 losses per zero direction). Expected outcomes (no
// convergence, undecided spectrum) are reported in status and message; throws std::invalid_argument
// on invalid options or a wrong-length theta.
Certificate certify(const Objective& objective, const Eigen::VectorXd& theta,
                    const CertifyOptions& options = {});

// The pipeline of the width sweeps (workflows/students, workflows/basins): Adam from a seeded
// start, then certify() with the polish limited to polish_iterations and these tolerances.
struct TrainCertifyOptions {
  std::int64_t adam_iterations = 2000;           // Adam steps before the polish
  double adam_learning_rate = 2e-2;              // Adam's alpha
  solvers::Method polish = solvers::Method::lm;  // lm, newton or critical
  std::int64_t polish_iterations = 200;          // the polish's maximum iterations
  double loss_tolerance = 1e-20;                 // zero loss (global minimum): L <= this
  double gradient_tolerance = 1e-8;              // critical: |grad L|_inf <= this
  double min_gap = 100.0;                        // a Hessian count decides only with this gap
  // Throws options::OptionError(owner, field, ...) naming the field: counts outside 0..1e9, a
  // learning rate not finite and > 0, polish not lm/newton/critical, tolerances not finite and
  // >= 0, min_gap < 1.
  void validate(const std::string& owner) const;
};
// Adds the rows of the TrainCertifyOptions member `train` of Options to t: adam_iterations,
// adam_learning_rate, polish, polish_iterations, loss_tolerance, gradient_tolerance and, when
// with_min_gap, min_gap (names as the members). Every options struct that embeds a
// TrainCertifyOptions (workflows/basins, workflows/students) gets its rows here, so that they are
// named, documented and typed once.
template <class Options>
options::Table<Options>&& add_train_certify_rows(options::Table<Options>&& t,
                                                 TrainCertifyOptions Options::*train,
                                                 bool with_min_gap = true) {
  using T = TrainCertifyOptions;
  const auto at = [train](auto field) {
    return [ train, field ](Options & o) -> auto& { return (o.*train).*field; };
  };
  std::move(t)
      .add("adam_iterations", "Adam steps before the polish", at(&T::adam_iterations))
      .add("adam_learning_rate", "Adam's step size alpha", at(&T::adam_learning_rate))
      .add_enum("polish", "second-order polish: lm, newton or critical", at(&T::polish),
                static_cast<std::string_view (*)(solvers::Method)>(&solvers::to_string),
                &solvers::parse_method,
                std::vector<solvers::Method>{solvers::Method::lm, solvers::Method::newton,
                                             solvers::Method::critical})
      .add("polish_iterations", "maximum iterations of the polish", at(&T::polish_iterations))
      .add("loss_tolerance", "zero loss (global minimum): L <= this", at(&T::loss_tolerance))
      .add("gradient_tolerance", "critical: |grad L|_inf <= this", at(&T::gradient_tolerance));
  if (with_min_gap)
    std::move(t).add("min_gap", "a Hessian count decides only with this spectral gap",
                     at(&T::min_gap));
  return std::move(t);
}
// The name of a certified end state: analysis::to_string(c), except "not_converged" for
// not_critical (the polish stopped short of the gradient test).
std::string end_state_name(analysis::PointClass c);
struct TrainedCertificate {
  solvers::SolveResult trained;  // the Adam run
  Certificate certificate;       // certify() from where Adam stopped
};
// Cost: adam_iterations gradients plus certify's. Expected outcomes are data; throws
// std::invalid_argument for invalid options or a wrong-length theta0.
TrainedCertificate train_and_certify(const Objective& objective, const Eigen::VectorXd& theta0,
                                     const TrainCertifyOptions& options);

// {"status", "message", "polish": {"method", "status", "message", "iterations", "loss_initial",
//  "loss_final", "gradient_max_norm", "seconds"}, "analysis": analysis::to_json(analysis),
//  "walk": to_json(walk)}.
io::Json to_json(const Certificate& c);
// A few lines: status and message, the polish summary (solvers::summary), the class and reason.
std::string summary(const Certificate& c);

}  // namespace locus::workflows
