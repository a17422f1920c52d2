#include "locus/analysis/classify.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace locus::analysis {

using Eigen::VectorXd;

std::string_view to_string(PointClass c) {
  switch (c) {
    case PointClass::global_minimum:
      return "global_minimum";
    case PointClass::strict_minimum:
      return "strict_minimum";
    case PointClass::non_strict_minimum:
      return "non_strict_minimum";
    case PointClass::saddle:
      return "saddle";
    case PointClass::not_critical:
      return "not_critical";
    case PointClass::undecided:
      return "undecided";
  }
  return "unknown";
}

void AnalyzeOptions::validate() const {
  spectrum.validate();
  if (!(gradient_tolerance >= 0))
    throw std::invalid_argument("AnalyzeOptions.gradient_tolerance must be >= 0");
  if (!(loss_tolerance >= 0))
    throw std::invalid_argument("AnalyzeOptions.loss_tolerance must be >= 0");
  if (!(min_gap >= 1)) throw std::invalid_argument("AnalyzeOptions.min_gap must be >= 1");
}

PointAnalysis analyze_point(const Objective& objective, const VectorXd& theta,
                            const AnalyzeOptions& options, const ProgressCallback& progress) {
  options.validate();
  PointAnalysis a;
  report_progress(progress, {.stage = "loss and gradient"});
  const auto lg = objective.loss_gradient(theta);
  a.loss = lg.loss;
  a.gradient_max_norm = lg.gradient.cwiseAbs().maxCoeff();
  a.n_params = objective.n_params();
  a.n_residuals = objective.n_residuals();
  a.at_zero_loss = a.loss <= options.loss_tolerance;
  if (objective.loss_spec().kind == LossKind::squared) {
    report_progress(progress, {.stage = "Jacobian SVD, " + std::to_string(a.n_residuals) + " x " +
                                        std::to_string(a.n_params)});
    a.jacobian = analyze_jacobian(objective, theta, options.jacobian);
    if (a.jacobian.computed) a.fibre_dimension = a.jacobian.local_dimension;
    if (a.at_zero_loss) a.manifold_dimension = a.fibre_dimension;
  } else {
    a.jacobian.skipped_reason = "cross-entropy has no residual map";
  }
  a.hessian = hessian_spectrum(objective, theta, options.spectrum, progress);
  const InertiaCount& c = a.hessian.counts;
  a.index = c.negative;
  if (a.at_zero_loss && a.jacobian.computed && a.hessian.method == SpectrumMethod::dense) {
    // Pair the top eigenvalues with 2c sigma_k^2 (at zero loss H = 2c J^T J exactly).
    const Index m = std::min<Index>(a.jacobian.rank, a.hessian.eigenvalues.size());
    double worst = 0.0, worst_abs = 0.0;
    for (Index k = 0; k < m; ++k) {
      const double lam = a.hessian.eigenvalues[a.hessian.eigenvalues.size() - 1 - k];
      const double gn = 2.0 * objective.scale() * std::pow(a.jacobian.singular_values[k], 2);
      worst = std::max(worst, std::abs(lam - gn) / std::abs(lam));
      worst_abs = std::max(worst_abs, std::abs(lam - gn));
    }
    a.eigen_vs_gauss_newton_rtol = worst;
    a.eigen_vs_gauss_newton_abs = worst_abs;
  }
  // Decide the class; the reason names the test that fired with its numbers.
  char buf[256];
  const bool smooth = is_smooth(objective.model().activation());
  const bool critical = a.gradient_max_norm <= options.gradient_tolerance;
  const bool clear = c.zero == 0 || c.gap >= options.min_gap;
  const bool negatives_known = c.complete || (a.hessian.method == SpectrumMethod::lanczos &&
                                              options.spectrum.lanczos_end != LanczosEnd::largest);
  if (!critical) {
    a.classification = PointClass::not_critical;
    std::snprintf(buf, sizeof buf, "|grad L|_inf = %.3g > %.3g (gradient_tolerance)",
                  a.gradient_max_norm, options.gradient_tolerance);
  } else if (!smooth) {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf, "the activation is not C^2: the Hessian misses its kink terms");
  } else if (!negatives_known || !clear || a.hessian.method == SpectrumMethod::slq) {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf,
                  "spectrum incomplete or zero threshold ambiguous (gap %.3g < %.3g)", c.gap,
                  options.min_gap);
  } else if (c.negative > 0) {
    a.classification = PointClass::saddle;
    std::snprintf(buf, sizeof buf, "%ld eigenvalues < -%.3g (tau_H), gap %.3g", long(c.negative),
                  c.tolerance, c.gap);
  } else if (a.at_zero_loss) {
    a.classification = PointClass::global_minimum;
    std::snprintf(buf, sizeof buf, "loss %.3g <= %.3g and no eigenvalue < -%.3g", a.loss,
                  options.loss_tolerance, c.tolerance);
  } else if (c.zero == 0 && c.complete) {
    a.classification = PointClass::strict_minimum;
    std::snprintf(buf, sizeof buf, "every eigenvalue > %.3g (tau_H); smallest %.3g", c.tolerance,
                  a.hessian.eigenvalues.minCoeff());
  } else if (c.complete) {
    a.classification = PointClass::non_strict_minimum;
    std::snprintf(buf, sizeof buf, "no eigenvalue < -%.3g, %ld zero eigenvalues (gap %.3g)",
                  c.tolerance, long(c.zero), c.gap);
  } else {
    a.classification = PointClass::undecided;
    std::snprintf(buf, sizeof buf,
                  "no negative eigenvalue among those computed; the middle of "
                  "the spectrum is unknown");
  }
  a.reason = buf;
  return a;
}

io::Json to_json(const PointAnalysis& a) {
  const auto num = io::json_number;
  io::Json j;
  j["loss"] = a.loss;
  j["gradient_max_norm"] = a.gradient_max_norm;
  j["n_params"] = a.n_params;
  j["n_residuals"] = a.n_residuals;
  j["at_zero_loss"] = a.at_zero_loss;
  io::Json jac;
  jac["computed"] = a.jacobian.computed;
  if (a.jacobian.computed) {
    jac["rank"] = a.jacobian.rank;
    jac["tolerance"] = a.jacobian.tolerance;
    jac["gap"] = num(a.jacobian.gap);
    jac["sigma_max"] = a.jacobian.sigma_max;
    jac["sigma_min"] =
        a.jacobian.singular_values.size() ? a.jacobian.singular_values.minCoeff() : 0.0;
    jac["full_row_rank"] = a.jacobian.full_row_rank;
  } else {
    jac["rank"] = nullptr;
    jac["tolerance"] = nullptr;
    jac["gap"] = nullptr;
    jac["skipped_reason"] = a.jacobian.skipped_reason;
  }
  j["jacobian"] = jac;
  j["fibre_dimension"] = a.fibre_dimension >= 0 ? io::Json(a.fibre_dimension) : io::Json(nullptr);
  j["manifold_dimension"] =
      a.manifold_dimension >= 0 ? io::Json(a.manifold_dimension) : io::Json(nullptr);
  j["hessian"] = to_json(a.hessian);
  j["eigen_vs_gauss_newton_rtol"] = num(a.eigen_vs_gauss_newton_rtol);
  j["eigen_vs_gauss_newton_abs"] = num(a.eigen_vs_gauss_newton_abs);
  j["classification"] = std::string(to_string(a.classification));
  j["index"] = a.index;
  j["reason"] = a.reason;
  return j;
}

}  // namespace locus::analysis
