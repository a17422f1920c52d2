#include "locus/workflows/certify.hpp"

#include <cmath>
#include <stdexcept>

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
  return c;
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
  return j;
}

std::string summary(const Certificate& c) {
  return std::string(to_string(c.status)) + ": " + c.message + "\n" + solvers::summary(c.polish);
}

}  // namespace locus::workflows
