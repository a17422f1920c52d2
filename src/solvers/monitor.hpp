#pragma once
// Private bookkeeping every solver shares: the clock, stopping tests, trace, callback and the
// assembly of SolveResult with a message that names the test that fired.

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers::detail {

// "3.1e-15" style formatting for messages and summaries.
std::string format_number(double v);
double max_norm(const Eigen::VectorXd& v);
bool all_finite(const Eigen::VectorXd& v);
// "(loss = 1e-29, |g|∞ = 3e-15)": the state a stopping message ends with.
std::string state_text(double loss, double gradient_max_norm);

// The checks of the damping options shared by the trust-region solvers (Levenberg-Marquardt,
// Newton, critical point): initial_damping finite and > 0, min_damping_factor finite and >= 0,
// max_damping_factor > min_damping_factor, acceptance_ratio in [0, 0.25).
// std::invalid_argument naming owner.field and the value otherwise.
void validate_damping(const char* owner, double initial_damping, double min_damping_factor,
                      double max_damping_factor, double acceptance_ratio);

// Nielsen's (1999) gain-ratio schedule of the damping factor mu, shared by the trust-region
// solvers: after an accepted step with gain ratio rho, mu *= max(1/3, 1 - (2 rho - 1)^3) (never
// below min_factor), which changes mu smoothly with the quality of the model; each consecutive
// rejection multiplies mu by a growth factor that doubles every time (2, 4, 8, ...). The cruder
// x4 / /4 rule zigzags between accepted and rejected steps.
class NielsenDamping {
 public:
  explicit NielsenDamping(double min_factor) : min_factor_(min_factor) {}
  bool unset() const { return std::isnan(mu_); }  // until the first model sets the scale
  void set(double mu) { mu_ = mu > min_factor_ ? mu : min_factor_; }
  double mu() const { return mu_; }
  void update(bool accepted, double rho);
  // A step at the rounding floor of the loss: rho carries no information, so mu is kept.
  void keep() { growth_ = 2.0; }

 private:
  double min_factor_;
  double mu_ = std::numeric_limits<double>::quiet_NaN();
  double growth_ = 2.0;
};

class Monitor {
 public:
  Monitor(std::string method, const StopCriteria& stop, bool record_trace,
          const IterationCallback& callback);

  double seconds() const;
  SolveResult& result() { return result_; }
  EvaluationCounts& counts() { return result_.counts; }

  // Records the initial point (iteration 0) and runs the stopping tests on it. Returns true when
  // the solver must not iterate (already converged, non-finite start, callback refused).
  bool begin(const Eigen::VectorXd& x, double loss, double gradient_max_norm);

  // begin() at the solver's starting point: evaluates the loss and gradient at x (counted as one
  // gradient evaluation), records iteration 0 and runs the tests; stopped() then says whether the
  // solver must not iterate. Returns the evaluation.
  LossGradient start(FunctionRef objective, const Eigen::VectorXd& x);
  // Whether a stopping test has fired (a status has been set).
  bool stopped() const { return result_.status != Status::not_run; }

  // After iteration `iteration` (>= 1): stores x as the current iterate when accepted, records,
  // calls the callback and runs the tests (convergence, then iteration and time limits).
  // Returns true when the solver must stop; result().status and message are then set.
  bool after_iteration(int iteration, const Eigen::VectorXd& x, double loss,
                       double gradient_max_norm, IterationRecord record);

  // Ends the run with a status of the solver's own (non_finite, stalled, ...) and message.
  void stop_with(Status status, std::string message);

  // Fills seconds, x and the achieved values (from the last accepted iterate) and returns.
  SolveResult finish();

 private:
  std::optional<Status> tests(double loss, double gradient_max_norm, int iteration);
  std::string describe(Status s, double loss, double gmax, int iteration) const;

  StopCriteria stop_;
  bool record_trace_;
  const IterationCallback& callback_;
  std::chrono::steady_clock::time_point start_;
  SolveResult result_;
};

// The outcome of one trial step of a damped solver (Levenberg-Marquardt, dense Newton, critical
// point): whether B + lambda I was factored, whether x moved to the trial point (at the round-off
// floor: with rho carrying no information), the gain ratio and the step's norm.
struct DampedTrial {
  bool factorized = true;
  bool accepted = false;
  bool floor_step = false;
  double rho = -1.0;  // actual / predicted decrease; -1 where there is none
  double step_norm = 0.0;
};

// Ends iteration `iteration` of a damped solver: updates the damping from the trial (kept after a
// floor step), records the iteration (damping lambda, the accepted step's norm) and stops the run
// once mu passes max_damping_factor, as stalled ("<no_decrease> for damping up to mu =
// max_damping_factor = ...") when the last system was factored, else as factorization_failed
// ("<not_factored> ..."). Returns true when the solver must stop. The
// messages are C strings: an iteration that goes on builds no string.
bool end_damped_iteration(Monitor& mon, NielsenDamping& damping, double max_damping_factor,
                          int iteration, const Eigen::VectorXd& x, const LossGradient& lg,
                          double lambda, const DampedTrial& trial, const char* no_decrease,
                          const char* not_factored);

}  // namespace locus::solvers::detail
