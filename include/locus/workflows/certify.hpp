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
#include <string>
#include <string_view>

#include "locus/analysis/classify.hpp"
#include "locus/core/objective.hpp"
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

struct Certificate {
  CertifyStatus status = CertifyStatus::undecided;
  std::string message;               // one sentence: the polish outcome and the deciding test
  solvers::SolveResult polish;       // the polishing run; polish.theta is the certified point
  analysis::PointAnalysis analysis;  // analyze_point at polish.theta
};

// Polishes theta with options.polish, then analyze_point(objective, polish.theta, options.analyze).
// Cost: the solver run (LM: one Jacobian + one m x n factorisation per iteration) plus the
// analysis (one SVD of J and the spectrum). Expected outcomes (no convergence, undecided
// spectrum) are reported in status and message; throws std::invalid_argument on invalid options
// or a wrong-length theta.
Certificate certify(const Objective& objective, const Eigen::VectorXd& theta,
                    const CertifyOptions& options = {});

// {"status", "message", "polish": {"method", "status", "message", "iterations", "loss_initial",
//  "loss_final", "gradient_max_norm", "seconds"}, "analysis": analysis::to_json(analysis)}.
io::Json to_json(const Certificate& c);
// A few lines: status and message, the polish summary (solvers::summary), the class and reason.
std::string summary(const Certificate& c);

}  // namespace locus::workflows
