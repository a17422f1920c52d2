#include "locus/workflows/certify.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>

#include "linalg/eigen.hpp"
#include "locus/io/format.hpp"

namespace locus::workflows {

void CertifyOptions::validate() const {
  if (polish != solvers::Method::lm && polish != solvers::Method::newton &&
      polish != solvers::Method::critical)
    throw std::invalid_argument(
        "CertifyOptions.polish = " + std::string(solvers::to_string(polish)) +
        " is invalid (valid: lm, newton, critical)");
  solvers::TrainOptions run = solver;
  run.method = polish;
  run.polish.reset();
  run.validate();
  analyze.validate();
  if (!(walk_step > 0) || !std::isfinite(walk_step))
    throw std::invalid_argument("CertifyOptions.walk_step must be finite and > 0");
  if (!(walk_loss_rtol > 0) || !std::isfinite(walk_loss_rtol))
    throw std::invalid_argument("CertifyOptions.walk_loss_rtol must be finite and > 0");
}

namespace {

// The straight walk along the Hessian's zero cluster (see ZeroDirectionWalk).
ZeroDirectionWalk walk_zero_directions(const Objective& objective, const Eigen::VectorXd& theta,
                                       double tau, const CertifyOptions& options) {
  ZeroDirectionWalk w;
  const linalg::SymmetricEigen e = linalg::symmetric_eigen(objective.hessian(theta), true);
  if (!e.converged) return w;
  const double loss = objective.loss(theta);
  w.checked = true;
  w.step = options.walk_step * std::max(1.0, theta.cwiseAbs().maxCoeff());
  w.tolerance = options.walk_loss_rtol * std::max(loss, DBL_MIN);
  w.loss_rise_max = 0.0;
  for (Index k = 0; k < e.values.size(); ++k) {
    if (std::abs(e.values(k)) > tau) continue;
    ++w.directions;
    for (double s : {w.step, -w.step})
      w.loss_rise_max =
          std::max(w.loss_rise_max, std::abs(objective.loss(theta + s * e.vectors.col(k)) - loss));
  }
  w.loss_constant = w.loss_rise_max <= w.tolerance;
  return w;
}

}  // namespace

io::Json to_json(const ZeroDirectionWalk& w) {
  return {{"checked", w.checked},
          {"directions", w.directions},
          {"step", io::json_number(w.step)},
          {"loss_rise_max", io::json_number(w.loss_rise_max)},
          {"tolerance", io::json_number(w.tolerance)},
          {"loss_constant", w.loss_constant}};
}

std::string_view to_string(CertifyStatus s) {
  switch (s) {
    case CertifyStatus::certified:
      return "certified";
    case CertifyStatus::not_critical:
      return "not_critical";
    case CertifyStatus::undecided:
      return "undecided";
  }
  return "unknown";
}

Certificate certify(const Objective& objective, const Eigen::VectorXd& theta,
                    const CertifyOptions& options) {
  options.validate();
  objective.model().check_parameters(theta, "theta");
  solvers::TrainOptions run = options.solver;
  run.method = options.polish;
  run.polish.reset();
  Certificate c;
  c.polish = solvers::solve(objective, theta, run);
  c.analysis = analysis::analyze_point(objective, c.polish.theta, options.analyze);
  switch (c.analysis.classification) {
    case analysis::PointClass::not_critical:
      c.status = CertifyStatus::not_critical;
      break;
    case analysis::PointClass::undecided:
      c.status = CertifyStatus::undecided;
      break;
    default:
      c.status = CertifyStatus::certified;
      break;
  }
  c.message = std::string(to_string(c.analysis.classification)) + ": " + c.analysis.reason +
              " (after " + c.polish.method + ": " +
              std::string(solvers::to_string(c.polish.status)) + ")";
  if (options.walk_zero_directions &&
      c.analysis.classification == analysis::PointClass::non_strict_minimum) {
    c.walk = walk_zero_directions(objective, c.polish.theta, c.analysis.hessian.counts.tolerance,
                                  options);
    if (c.walk.checked)
      c.message += c.walk.loss_constant
                       ? "; the loss is constant along the zero directions (straight walk)"
                       : "; the loss is not constant along the zero directions (rise " +
                             io::format_number(c.walk.loss_rise_max) + ")";
  }
  return c;
}

void TrainCertifyOptions::validate(const std::string& owner) const {
  auto fail = [&](const char* field, const std::string& problem) {
    throw options::OptionError(owner, field, problem);
  };
  // Both counts become a solver's int max_iterations.
  constexpr std::int64_t max_count = 1'000'000'000;
  if (adam_iterations < 0 || adam_iterations > max_count)
    fail("adam_iterations", "must be in 0..1e9, got " + std::to_string(adam_iterations));
  if (!(adam_learning_rate > 0) || !std::isfinite(adam_learning_rate))
    fail("adam_learning_rate",
         "must be finite and > 0, got " + io::format_number(adam_learning_rate));
  if (polish != solvers::Method::lm && polish != solvers::Method::newton &&
      polish != solvers::Method::critical)
    fail("polish",
         "must be lm, newton or critical, got " + std::string(solvers::to_string(polish)));
  if (polish_iterations < 0 || polish_iterations > max_count)
    fail("polish_iterations", "must be in 0..1e9, got " + std::to_string(polish_iterations));
  if (!(loss_tolerance >= 0) || !std::isfinite(loss_tolerance))
    fail("loss_tolerance", "must be finite and >= 0, got " + io::format_number(loss_tolerance));
  if (!(gradient_tolerance >= 0) || !std::isfinite(gradient_tolerance))
    fail("gradient_tolerance",
         "must be finite and >= 0, got " + io::format_number(gradient_tolerance));
  if (!(min_gap >= 1) || !std::isfinite(min_gap))
    fail("min_gap", "must be finite and >= 1, got " + io::format_number(min_gap));
}

std::string end_state_name(analysis::PointClass c) {
  return c == analysis::PointClass::not_critical ? "not_converged"
                                                 : std::string(analysis::to_string(c));
}

TrainedCertificate train_and_certify(const Objective& objective, const Eigen::VectorXd& theta0,
                                     const TrainCertifyOptions& options) {
  options.validate("TrainCertifyOptions");
  solvers::TrainOptions adam;
  adam.method = solvers::Method::adam;
  adam.adam.learning_rate = options.adam_learning_rate;
  adam.adam.stop.max_iterations = static_cast<int>(options.adam_iterations);
  CertifyOptions c;
  c.polish = options.polish;
  solvers::stop_criteria(c.solver, options.polish).max_iterations =
      static_cast<int>(options.polish_iterations);
  c.analyze.loss_tolerance = options.loss_tolerance;
  c.analyze.gradient_tolerance = options.gradient_tolerance;
  c.analyze.min_gap = options.min_gap;
  TrainedCertificate t;
  t.trained = solvers::solve(objective, theta0, adam);
  t.certificate = certify(objective, t.trained.theta, c);
  return t;
}

io::Json to_json(const Certificate& c) {
  // Non-finite numbers as in analysis::to_json: NaN -> null (a run that never evaluated).
  auto num = [](double v) -> io::Json {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
  };
  io::Json j;
  j["status"] = std::string(to_string(c.status));
  j["message"] = c.message;
  io::Json p;
  p["method"] = c.polish.method;
  p["status"] = std::string(solvers::to_string(c.polish.status));
  p["message"] = c.polish.message;
  p["iterations"] = c.polish.iterations;
  p["loss_initial"] = num(c.polish.loss_initial);
  p["loss_final"] = num(c.polish.loss_final);
  p["gradient_max_norm"] = num(c.polish.gradient_max_norm);
  p["seconds"] = c.polish.seconds;
  j["polish"] = p;
  j["analysis"] = analysis::to_json(c.analysis);
  j["walk"] = to_json(c.walk);
  return j;
}

std::string summary(const Certificate& c) {
  return std::string(to_string(c.status)) + ": " + c.message + "\n" + solvers::summary(c.polish);
}

}  // namespace locus::workflows
