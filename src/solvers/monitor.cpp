#include "monitor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace locus::solvers::detail {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

double max_norm(const Eigen::VectorXd& v) { return v.size() ? v.cwiseAbs().maxCoeff() : 0.0; }

bool all_finite(const Eigen::VectorXd& v) { return v.allFinite(); }

std::string state_text(double loss, double gmax) {
  return "(loss = " + format_number(loss) + ", |g|∞ = " + format_number(gmax) + ")";
}

void validate_damping(const char* owner, double initial_damping, double min_damping_factor,
                      double max_damping_factor, double acceptance_ratio) {
  auto bad = [owner](const char* field, double v, const char* need) {
    throw std::invalid_argument(std::string(owner) + "." + field + " must be " + need + ", got " +
                                format_number(v));
  };
  if (!(initial_damping > 0) || !std::isfinite(initial_damping))
    bad("initial_damping", initial_damping, "finite and > 0");
  if (!(min_damping_factor >= 0) || !std::isfinite(min_damping_factor))
    bad("min_damping_factor", min_damping_factor, "finite and >= 0");
  if (!(max_damping_factor > min_damping_factor))
    bad("max_damping_factor", max_damping_factor, "> min_damping_factor");
  if (!(acceptance_ratio >= 0 && acceptance_ratio < 0.25))
    bad("acceptance_ratio", acceptance_ratio, "in [0, 0.25)");
}

void NielsenDamping::update(bool accepted, double rho) {
  if (accepted) {
    const double t = 2.0 * rho - 1.0;
    set(mu_ * std::max(1.0 / 3.0, 1.0 - t * t * t));
    growth_ = 2.0;
  } else {
    mu_ *= growth_;
    growth_ *= 2.0;
  }
}

Monitor::Monitor(std::string method, const StopCriteria& stop, bool record_trace,
                 const IterationCallback& callback)
    : stop_(stop),
      record_trace_(record_trace),
      callback_(callback),
      start_(std::chrono::steady_clock::now()) {
  result_.method = std::move(method);
  result_.stop = stop;
}

double Monitor::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Monitor::describe(Status s, double loss, double gmax, int iteration) const {
  std::string state = " ";  // (appended, not prepended: GCC 12's -Wrestrict misfires on " " + s)
  state += state_text(loss, gmax);
  switch (s) {
    case Status::converged_gradient:
      return "|g|∞ = " + format_number(gmax) +
             " ≤ gradient_tolerance = " + format_number(stop_.gradient_tolerance) + " after " +
             std::to_string(iteration) + " iterations";
    case Status::converged_loss:
      return "loss = " + format_number(loss) +
             " ≤ loss_tolerance = " + format_number(stop_.loss_tolerance) + " after " +
             std::to_string(iteration) + " iterations";
    case Status::max_iterations:
      return "reached max_iterations = " + std::to_string(stop_.max_iterations) + state;
    case Status::time_limit:
      return "reached max_seconds = " + format_number(stop_.max_seconds) + " after " +
             std::to_string(iteration) + " iterations" + state;
    case Status::stopped_by_callback:
      return "the callback stopped the run at iteration " + std::to_string(iteration) + state;
    default:
      return std::string(to_string(s)) + state;
  }
}

std::optional<Status> Monitor::tests(double loss, double gmax, int iteration) {
  if (!std::isfinite(loss) || !std::isfinite(gmax)) return Status::non_finite;
  if (gmax <= stop_.gradient_tolerance) return Status::converged_gradient;
  if (loss <= stop_.loss_tolerance) return Status::converged_loss;
  if (iteration >= stop_.max_iterations) return Status::max_iterations;
  if (seconds() >= stop_.max_seconds) return Status::time_limit;
  return std::nullopt;
}

bool Monitor::begin(const Eigen::VectorXd& x, double loss, double gmax) {
  result_.theta = x;
  result_.loss_initial = loss;
  result_.loss_final = loss;
  result_.gradient_max_norm = gmax;
  result_.iterations = 0;
  IterationRecord rec;
  rec.iteration = 0;
  rec.seconds = seconds();
  rec.loss = loss;
  rec.gradient_max_norm = gmax;
  if (record_trace_) result_.trace.push_back(rec);
  const bool keep_going = callback_ ? callback_(rec) : true;
  if (!std::isfinite(loss) || !std::isfinite(gmax)) {
    stop_with(Status::non_finite,
              "the loss or gradient at the initial point is not finite " + state_text(loss, gmax));
    return true;
  }
  if (auto s = tests(loss, gmax, 0)) {
    stop_with(*s, describe(*s, loss, gmax, 0));
    return true;
  }
  if (!keep_going) {
    stop_with(Status::stopped_by_callback, describe(Status::stopped_by_callback, loss, gmax, 0));
    return true;
  }
  return false;
}

LossGradient Monitor::start(FunctionRef objective, const Eigen::VectorXd& x) {
  LossGradient lg = objective.loss_gradient(x);
  ++result_.counts.gradient;
  begin(x, lg.loss, max_norm(lg.gradient));
  return lg;
}

bool Monitor::after_iteration(int iteration, const Eigen::VectorXd& x, double loss, double gmax,
                              IterationRecord rec) {
  result_.theta = x;
  result_.loss_final = loss;
  result_.gradient_max_norm = gmax;
  result_.iterations = iteration;
  rec.iteration = iteration;
  rec.seconds = seconds();
  rec.loss = loss;
  rec.gradient_max_norm = gmax;
  if (record_trace_) result_.trace.push_back(rec);
  const bool keep_going = callback_ ? callback_(rec) : true;
  if (auto s = tests(loss, gmax, iteration)) {
    stop_with(*s, describe(*s, loss, gmax, iteration));
    return true;
  }
  if (!keep_going) {
    stop_with(Status::stopped_by_callback,
              describe(Status::stopped_by_callback, loss, gmax, iteration));
    return true;
  }
  return false;
}

void Monitor::stop_with(Status status, std::string message) {
  result_.status = status;
  result_.message = std::move(message);
}

SolveResult Monitor::finish() {
  result_.seconds = seconds();
  return std::move(result_);
}

bool end_damped_iteration(Monitor& mon, NielsenDamping& damping, double max_damping_factor,
                          int iteration, const Eigen::VectorXd& x, const LossGradient& lg,
                          double lambda, const DampedTrial& trial, const char* no_decrease,
                          const char* not_factored) {
  if (trial.floor_step)
    damping.keep();
  else
    damping.update(trial.accepted, trial.rho);
  IterationRecord rec;
  rec.damping = lambda;
  rec.step_norm = trial.accepted ? trial.step_norm : 0.0;
  const double gmax = max_norm(lg.gradient);
  if (mon.after_iteration(iteration, x, lg.loss, gmax, rec)) return true;
  if (damping.mu() <= max_damping_factor) return false;
  mon.stop_with(trial.factorized ? Status::stalled : Status::factorization_failed,
                std::string(trial.factorized ? no_decrease : not_factored) +
                    " for damping up to mu = max_damping_factor = " +
                    format_number(max_damping_factor) + " " + state_text(lg.loss, gmax));
  return true;
}

}  // namespace locus::solvers::detail
