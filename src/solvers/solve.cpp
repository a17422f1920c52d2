#include "locus/solvers/solve.hpp"

#include <chrono>
#include <stdexcept>

namespace locus::solvers {

std::string_view to_string(Method m) {
  switch (m) {
    case Method::gd:
      return "gd";
    case Method::sgd:
      return "sgd";
    case Method::adam:
      return "adam";
    case Method::lbfgs:
      return "lbfgs";
    case Method::lm:
      return "lm";
    case Method::newton:
      return "newton";
    case Method::critical:
      return "critical";
    case Method::flow:
      return "flow";
  }
  return "unknown";
}

const std::vector<Method>& all_methods() {
  static const std::vector<Method> methods = {Method::gd,       Method::sgd, Method::adam,
                                              Method::lbfgs,    Method::lm,  Method::newton,
                                              Method::critical, Method::flow};
  return methods;
}

Method parse_method(std::string_view name) {
  std::string valid;
  for (Method m : all_methods()) {
    if (to_string(m) == name) return m;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(m));
  }
  throw std::invalid_argument("unknown method '" + std::string(name) + "' (valid: " + valid + ")");
}

StopCriteria& stop_criteria(TrainOptions& o, Method m) {
  switch (m) {
    case Method::gd:
      return o.gd.stop;
    case Method::sgd:
      return o.sgd.stop;
    case Method::adam:
      return o.adam.stop;
    case Method::lbfgs:
      return o.lbfgs.stop;
    case Method::lm:
      return o.lm.stop;
    case Method::newton:
      return o.newton.stop;
    case Method::critical:
      return o.critical.stop;
    case Method::flow:
      return o.flow.stop;
  }
  throw std::invalid_argument("stop_criteria: unknown method");
}

const StopCriteria& stop_criteria(const TrainOptions& o, Method m) {
  return stop_criteria(const_cast<TrainOptions&>(o), m);
}

namespace {

void validate_method(const TrainOptions& o, Method m) {
  switch (m) {
    case Method::gd:
      o.gd.validate();
      break;
    case Method::sgd:
      o.sgd.validate();
      break;
    case Method::adam:
      o.adam.validate();
      break;
    case Method::lbfgs:
      o.lbfgs.validate();
      break;
    case Method::lm:
      o.lm.validate();
      break;
    case Method::newton:
      o.newton.validate();
      break;
    case Method::critical:
      o.critical.validate();
      break;
    case Method::flow:
      o.flow.validate();
      break;
  }
}

SolveResult run_method(FunctionRef objective, Eigen::VectorXd theta0, const TrainOptions& o,
                       Method m, const IterationCallback& cb) {
  switch (m) {
    case Method::gd:
      return solve_gradient_descent(objective, std::move(theta0), o.gd, cb);
    case Method::sgd:
      return solve_sgd(objective, std::move(theta0), o.sgd, cb);
    case Method::adam:
      return solve_adam(objective, std::move(theta0), o.adam, cb);
    case Method::lbfgs:
      return solve_lbfgs(objective, std::move(theta0), o.lbfgs, cb);
    case Method::lm:
      return solve_levenberg_marquardt(objective, std::move(theta0), o.lm, cb);
    case Method::newton:
      return solve_newton(objective, std::move(theta0), o.newton, cb);
    case Method::critical:
      return solve_critical_point(objective, std::move(theta0), o.critical, cb);
    case Method::flow:
      return solve_gradient_flow(objective, std::move(theta0), o.flow, cb);
  }
  throw std::invalid_argument("solve: unknown method");
}

StageSummary stage_of(const SolveResult& r) {
  return {r.method, r.status, r.iterations, r.seconds, r.loss_final, r.gradient_max_norm};
}

}  // namespace

void TrainOptions::validate() const {
  validate_method(*this, method);
  if (polish) {
    const Method p = *polish;
    if (p != Method::lm && p != Method::newton && p != Method::lbfgs && p != Method::critical)
      throw std::invalid_argument(
          "TrainOptions.polish must be lm, newton, lbfgs or critical, got " +
          std::string(to_string(p)));
    validate_method(*this, p);
  }
}

SolveResult solve(FunctionRef objective, Eigen::VectorXd theta0, const TrainOptions& options,
                  const IterationCallback& callback) {
  options.validate();
  if (!options.polish)
    return run_method(objective, std::move(theta0), options, options.method, callback);

  SolveResult first = run_method(objective, std::move(theta0), options, options.method, callback);
  if (first.status == Status::stopped_by_callback) {
    first.stages = {stage_of(first)};
    return first;
  }
  // The polish's iteration numbers continue the first stage's in the callback and the trace.
  const int offset = first.iterations;
  const IterationCallback shifted = callback ? IterationCallback([&](const IterationRecord& r) {
    IterationRecord s = r;
    s.iteration += offset;
    return callback(s);
  })
                                             : IterationCallback{};
  SolveResult second = run_method(objective, first.theta, options, *options.polish, shifted);

  SolveResult out = std::move(second);
  out.method = first.method + "+" + out.method;
  out.loss_initial = first.loss_initial;
  out.iterations += first.iterations;
  out.seconds += first.seconds;
  out.counts.loss += first.counts.loss;
  out.counts.gradient += first.counts.gradient;
  out.counts.jacobian += first.counts.jacobian;
  out.counts.hessian += first.counts.hessian;
  out.counts.hessian_vector += first.counts.hessian_vector;
  out.counts.factorizations += first.counts.factorizations;
  std::vector<IterationRecord> trace = std::move(first.trace);
  for (IterationRecord r : out.trace) {
    if (r.iteration == 0 && !trace.empty()) continue;  // the polish's start is the flow's end
    r.iteration += offset;
    r.seconds += first.seconds;
    trace.push_back(r);
  }
  out.trace = std::move(trace);
  if (out.trajectory.empty()) out.trajectory = std::move(first.trajectory);
  out.stages = {stage_of(first), stage_of(out)};
  out.stages.back().method = std::string(to_string(*options.polish));
  out.stages.back().iterations = out.iterations - first.iterations;
  out.stages.back().seconds = out.seconds - first.seconds;
  return out;
}

}  // namespace locus::solvers
