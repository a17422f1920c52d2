#pragma once
// What every locus solver shares: stopping criteria, termination status, per-iteration records
// and the typed result with its one-glance summary.
//
//   locus::solvers::SolveResult r = locus::solvers::solve_levenberg_marquardt(objective, theta0);
//   if (!r.converged()) std::cerr << r.message << "\n";
//   std::cout << locus::solvers::summary(r);        // "|g|∞ = 3.1e-15 ≤ 1e-14" style block
//   locus::solvers::write_trace_csv("trace.csv", r); // needs options.record_trace = true
//
// Solvers are judged by loss and gradient, never by parameters: minima of overparameterized
// networks are not isolated, so two equally good runs end at different theta.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locus/io/json.hpp"

namespace locus::solvers {

// Why a solver stopped. One value per reason; converged() is true for the first two only.
enum class Status {
  not_run,               // the solver has not been called
  converged_gradient,    // max_i |g_i| <= stop.gradient_tolerance
  converged_loss,        // loss <= stop.loss_tolerance
  max_iterations,        // stop.max_iterations iterations (or integrator steps) done
  time_limit,            // stop.max_seconds of wall clock used
  non_finite,            // loss or gradient became NaN/inf; theta is the last finite iterate
  line_search_failed,    // no step satisfying the (strong) Wolfe conditions was found
  factorization_failed,  // no damping up to its cap made the linear system factorizable
  stalled,               // no representable step decreases the merit any more (round-off floor)
  integration_failed,    // the ODE integrator (CVODE) reported an error
  final_time,            // gradient flow reached its final time t_final
  stopped_by_callback,   // the iteration callback returned false
};
std::string_view to_string(Status s);
// Inverse of to_string; throws std::invalid_argument listing the valid names.
Status parse_status(std::string_view name);

// Stopping tests shared by all solvers. A solver stops at the first test that fires; tests on
// the loss and the gradient are evaluated at every accepted iterate (and at theta0).
struct StopCriteria {
  // Stop when max_i |g_i| <= gradient_tolerance (infinity norm of the unscaled gradient of L).
  double gradient_tolerance = 1e-13;
  // Stop when L <= loss_tolerance (exact interpolation in the teacher-student setting).
  double loss_tolerance = 1e-30;
  // Iteration cap (for gradient flow: internal integrator steps; for SGD: epochs).
  int max_iterations = 1000;
  // Wall-clock cap in seconds; inf = no limit.
  double max_seconds = std::numeric_limits<double>::infinity();

  // Throws std::invalid_argument naming owner.field and its value: a NaN tolerance, a negative
  // gradient_tolerance, max_iterations < 0 or max_seconds <= 0.
  void validate(std::string_view owner = "stop") const;
};

// One iteration of a solver, as passed to the callback and stored in SolveResult::trace.
// Loss and gradient are those of the current (accepted) iterate.
struct IterationRecord {
  int iteration = 0;               // 0 = the initial point
  double seconds = 0.0;            // wall clock since the solver started
  double loss = NAN;               // L(theta)
  double gradient_max_norm = NAN;  // max_i |g_i|
  double step_norm = 0.0;          // Euclidean norm of the accepted step (0 if rejected)
  // Method-specific step control: learning rate (gd, sgd, adam), line-search step alpha
  // (lbfgs), trust-region radius (newton with Steihaug-CG), integrator step h (flow).
  double step_size = NAN;
  // Damping added to the (Gauss-Newton or exact) Hessian: LM's lambda, Newton's shift.
  double damping = NAN;
  double flow_time = NAN;  // gradient flow only: the ODE time t of this state
};

// Progress callback: return false to stop the solver (Status::stopped_by_callback). Called once
// per iteration, from the calling thread. It must not throw.
using IterationCallback = std::function<bool(const IterationRecord&)>;

// How many times the expensive pieces were evaluated.
struct EvaluationCounts {
  std::int64_t loss = 0;            // loss-only evaluations (incl. residual vectors)
  std::int64_t gradient = 0;        // loss-and-gradient evaluations (full data)
  std::int64_t jacobian = 0;        // residual Jacobians J (or J J^T formed without J)
  std::int64_t hessian = 0;         // dense Hessians
  std::int64_t hessian_vector = 0;  // Hessian-vector products
  std::int64_t factorizations = 0;  // dense factorizations / eigendecompositions
};

// Inertia of the Hessian at the final point, from its dense eigenvalues lambda_i: negative
// counts lambda_i < -tolerance, zero counts |lambda_i| <= tolerance, positive the rest.
struct HessianInertia {
  int negative = 0;  // the index of the critical point
  int zero = 0;
  int positive = 0;
  double tolerance = NAN;       // absolute; = relative tolerance * max_i |lambda_i|
  double eigenvalue_min = NAN;  // smallest eigenvalue
  double eigenvalue_max = NAN;  // largest eigenvalue
};

// A point of a gradient-flow trajectory, at an output time (log-spaced, see GradientFlowOptions).
struct TrajectoryPoint {
  double time = 0.0;
  double loss = NAN;
  double gradient_max_norm = NAN;
  Eigen::VectorXd theta;  // theta(time), interpolated by the integrator to its tolerance
};

// One stage of a pipeline (flow followed by a polish).
struct StageSummary {
  std::string method;
  Status status = Status::not_run;
  int iterations = 0;
  double seconds = 0.0;
  double loss_final = NAN;
  double gradient_max_norm = NAN;
};

struct SolveResult {
  Status status = Status::not_run;
  std::string message;    // one sentence naming the test that fired and the values it compared
  std::string method;     // "lm", "newton", "flow+lm", ...
  Eigen::VectorXd theta;  // final parameters (the last finite, accepted iterate)
  double loss_initial = NAN;
  double loss_final = NAN;
  double gradient_max_norm = NAN;  // achieved max_i |g_i|; compare with stop.gradient_tolerance
  int iterations = 0;              // iterations done (integrator steps for flow; epochs for sgd)
  EvaluationCounts counts;
  double seconds = 0.0;                     // wall clock
  StopCriteria stop;                        // the criteria the (last stage of the) run used
  std::vector<IterationRecord> trace;       // empty unless options.record_trace
  std::optional<HessianInertia> inertia;    // critical-point mode: the Hessian's inertia at theta
  std::vector<TrajectoryPoint> trajectory;  // gradient flow: the requested output times
  std::vector<StageSummary> stages;         // pipelines: one entry per stage

  bool converged() const {
    return status == Status::converged_gradient || status == Status::converged_loss;
  }
};

// An Optim.jl-style block, one line per achieved value beside its tolerance:
//   lm: converged_gradient
//     |g|∞        = 3.1e-15 ≤ 1e-13 (gradient_tolerance)
//     loss        = 8.4e-30 > 1e-30 (loss_tolerance)   from 2.3e+02
//     iterations  = 23 ≤ 1000
//     seconds     = 0.84 ≤ inf
//     evaluations : loss 31, gradient 24, jacobian 23, hessian 0, hvp 0, factorizations 30
//   <message>
// The one-argument form compares against result.stop.
std::string summary(const SolveResult& result, const StopCriteria& stop);
std::string summary(const SolveResult& result);

// {"method", "status", "converged", "message", "loss_initial", "loss_final",
//  "gradient_max_norm", "iterations", "seconds", "counts": {...}, "stop": {...},
//  "inertia": {...} (critical mode only), "trajectory_points", "trace_records",
//  "stages": [{"method", "status", "iterations", "seconds", "loss_final",
//  "gradient_max_norm"}, ...]}. Non-finite numbers as io::json_number writes them. The parameters,
// the trace and the trajectory (n numbers per record) are left to .npy/CSV files.
io::Json to_json(const SolveResult& result);
io::Json to_json(const EvaluationCounts& counts);
io::Json to_json(const StopCriteria& stop);
io::Json to_json(const HessianInertia& inertia);

// The trace as a table with snake_case column names (CSV-ready):
// iteration, seconds, loss, gradient_max_norm, step_norm, step_size, damping, flow_time.
struct TraceTable {
  std::vector<std::string> columns;
  Eigen::MatrixXd values;  // one row per IterationRecord
};
TraceTable trace_table(const std::vector<IterationRecord>& trace);
// Writes trace_table(result.trace) as CSV with io::write_csv (header line, then %.17g numbers,
// atomically); its errors name the path.
void write_trace_csv(const std::string& path, const SolveResult& result);

}  // namespace locus::solvers
