#include "locus/solvers/result.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "locus/io/csv.hpp"
#include "monitor.hpp"

namespace locus::solvers {

namespace {
constexpr Status k_all_statuses[] = {
    Status::not_run,
    Status::converged_gradient,
    Status::converged_loss,
    Status::max_iterations,
    Status::time_limit,
    Status::non_finite,
    Status::line_search_failed,
    Status::factorization_failed,
    Status::stalled,
    Status::integration_failed,
    Status::final_time,
    Status::stopped_by_callback,
};
}  // namespace

std::string_view to_string(Status s) {
  switch (s) {
    case Status::not_run:
      return "not_run";
    case Status::converged_gradient:
      return "converged_gradient";
    case Status::converged_loss:
      return "converged_loss";
    case Status::max_iterations:
      return "max_iterations";
    case Status::time_limit:
      return "time_limit";
    case Status::non_finite:
      return "non_finite";
    case Status::line_search_failed:
      return "line_search_failed";
    case Status::factorization_failed:
      return "factorization_failed";
    case Status::stalled:
      return "stalled";
    case Status::integration_failed:
      return "integration_failed";
    case Status::final_time:
      return "final_time";
    case Status::stopped_by_callback:
      return "stopped_by_callback";
  }
  return "unknown";
}

Status parse_status(std::string_view name) {
  std::string valid;
  for (Status s : k_all_statuses) {
    if (to_string(s) == name) return s;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(s));
  }
  throw std::invalid_argument("unknown solver status '" + std::string(name) + "' (valid: " + valid +
                              ")");
}

void StopCriteria::validate(std::string_view owner) const {
  const std::string o(owner);
  if (std::isnan(gradient_tolerance) || gradient_tolerance < 0)
    throw std::invalid_argument(o + ".gradient_tolerance must be >= 0, got " +
                                detail::format_number(gradient_tolerance));
  if (std::isnan(loss_tolerance))
    throw std::invalid_argument(o + ".loss_tolerance must not be NaN");
  if (max_iterations < 0)
    throw std::invalid_argument(o + ".max_iterations must be >= 0, got " +
                                std::to_string(max_iterations));
  if (!(max_seconds > 0))
    throw std::invalid_argument(o + ".max_seconds must be > 0 (inf = no limit), got " +
                                detail::format_number(max_seconds));
}

std::string summary(const SolveResult& r, const StopCriteria& stop) {
  using detail::format_number;
  auto compare = [](double value, double tolerance) {
    return format_number(value) + (value <= tolerance ? " ≤ " : " > ") + format_number(tolerance);
  };
  std::string s = (r.method.empty() ? std::string("solver") : r.method) + ": " +
                  std::string(to_string(r.status)) + "\n";
  s += "  |g|∞        = " + compare(r.gradient_max_norm, stop.gradient_tolerance) +
       " (gradient_tolerance)\n";
  s += "  loss        = " + compare(r.loss_final, stop.loss_tolerance) +
       " (loss_tolerance)   from " + format_number(r.loss_initial) + "\n";
  s += "  iterations  = " + std::to_string(r.iterations) +
       (r.iterations <= stop.max_iterations ? " ≤ " : " > ") + std::to_string(stop.max_iterations) +
       "\n";
  s += "  seconds     = " + compare(r.seconds, stop.max_seconds) + "\n";
  const EvaluationCounts& c = r.counts;
  s += "  evaluations : loss " + std::to_string(c.loss) + ", gradient " +
       std::to_string(c.gradient) + ", jacobian " + std::to_string(c.jacobian) + ", hessian " +
       std::to_string(c.hessian) + ", hvp " + std::to_string(c.hessian_vector) +
       ", factorizations " + std::to_string(c.factorizations) + "\n";
  if (r.inertia) {
    const HessianInertia& h = *r.inertia;
    s += "  hessian     : index " + std::to_string(h.negative) + " (" + std::to_string(h.negative) +
         " negative, " + std::to_string(h.zero) + " zero, " + std::to_string(h.positive) +
         " positive; |lambda| ≤ " + format_number(h.tolerance) +
         " counted zero), eigenvalues in [" + format_number(h.eigenvalue_min) + ", " +
         format_number(h.eigenvalue_max) + "]\n";
  }
  for (const StageSummary& st : r.stages)
    s += "  stage " + st.method + ": " + std::string(to_string(st.status)) + ", " +
         std::to_string(st.iterations) + " iterations, " + format_number(st.seconds) + " s, loss " +
         format_number(st.loss_final) + ", |g|∞ " + format_number(st.gradient_max_norm) + "\n";
  if (!r.message.empty()) s += "  " + r.message + "\n";
  return s;
}

std::string summary(const SolveResult& r) { return summary(r, r.stop); }

TraceTable trace_table(const std::vector<IterationRecord>& trace) {
  TraceTable t;
  t.columns = {"iteration", "seconds",   "loss",    "gradient_max_norm",
               "step_norm", "step_size", "damping", "flow_time"};
  t.values.resize(static_cast<Eigen::Index>(trace.size()),
                  static_cast<Eigen::Index>(t.columns.size()));
  for (size_t i = 0; i < trace.size(); ++i) {
    const IterationRecord& r = trace[i];
    t.values.row(static_cast<Eigen::Index>(i)) << r.iteration, r.seconds, r.loss,
        r.gradient_max_norm, r.step_norm, r.step_size, r.damping, r.flow_time;
  }
  return t;
}

void write_trace_csv(const std::string& path, const SolveResult& result) {
  const TraceTable t = trace_table(result.trace);
  io::write_csv(path, t.columns, t.values);
}

io::Json to_json(const EvaluationCounts& c) {
  return {{"loss", c.loss},
          {"gradient", c.gradient},
          {"jacobian", c.jacobian},
          {"hessian", c.hessian},
          {"hessian_vector", c.hessian_vector},
          {"factorizations", c.factorizations}};
}

io::Json to_json(const StopCriteria& s) {
  return {{"gradient_tolerance", io::json_number(s.gradient_tolerance)},
          {"loss_tolerance", io::json_number(s.loss_tolerance)},
          {"max_iterations", s.max_iterations},
          {"max_seconds", io::json_number(s.max_seconds)}};
}

io::Json to_json(const HessianInertia& h) {
  return {{"negative", h.negative},
          {"zero", h.zero},
          {"positive", h.positive},
          {"tolerance", io::json_number(h.tolerance)},
          {"eigenvalue_min", io::json_number(h.eigenvalue_min)},
          {"eigenvalue_max", io::json_number(h.eigenvalue_max)}};
}

io::Json to_json(const SolveResult& r) {
  io::Json j = {{"method", r.method},
                {"status", std::string(to_string(r.status))},
                {"converged", r.converged()},
                {"message", r.message},
                {"loss_initial", io::json_number(r.loss_initial)},
                {"loss_final", io::json_number(r.loss_final)},
                {"gradient_max_norm", io::json_number(r.gradient_max_norm)},
                {"iterations", r.iterations},
                {"seconds", io::json_number(r.seconds)},
                {"counts", to_json(r.counts)},
                {"stop", to_json(r.stop)}};
  if (r.inertia) j["inertia"] = to_json(*r.inertia);
  j["trajectory_points"] = r.trajectory.size();
  j["trace_records"] = r.trace.size();
  io::Json stages = io::Json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"method", s.method},
                      {"status", std::string(to_string(s.status))},
                      {"iterations", s.iterations},
                      {"seconds", io::json_number(s.seconds)},
                      {"loss_final", io::json_number(s.loss_final)},
                      {"gradient_max_norm", io::json_number(s.gradient_max_norm)}});
  j["stages"] = stages;
  return j;
}

}  // namespace locus::solvers
