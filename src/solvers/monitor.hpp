#pragma once
// Private bookkeeping every solver shares: the clock, stopping tests, trace, callback and the
// assembly of SolveResult with a message that names the test that fired.

#include <Eigen/Core>
#include <chrono>
#include <optional>
#include <string>

#include "locus/solvers/result.hpp"

namespace locus::solvers::detail {

// "3.1e-15" style formatting for messages and summaries.
std::string format_number(double v);
double max_norm(const Eigen::VectorXd& v);
bool all_finite(const Eigen::VectorXd& v);

// The rounding level of |r|^2 for residuals r = f - y (flattened row-major like
// Objective::residuals): each r_i carries an error of a few ulps of |f_i| + |y_i| (measured
// 1.7 ulps rms on a [10,200,1] softplus network), so |r|^2 is uncertain by about
// sum_i 2 |r_i| 4 eps (|f_i| + |y_i|). Below it, differences of the loss are rounding noise.
double residual_rounding_level(const Eigen::VectorXd& r, const Eigen::MatrixXd& y);

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

}  // namespace locus::solvers::detail
