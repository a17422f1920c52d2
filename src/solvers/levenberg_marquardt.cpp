#include "locus/solvers/levenberg_marquardt.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "dense.hpp"
#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using Eigen::MatrixXd;
using Eigen::VectorXd;

void LevenbergMarquardtOptions::validate() const {
  stop.validate("LevenbergMarquardtOptions.stop");
  detail::validate_damping("LevenbergMarquardtOptions", initial_damping, min_damping_factor,
                           max_damping_factor, acceptance_ratio);
}

SolveResult solve_levenberg_marquardt(FunctionRef objective, VectorXd x,
                                      const LevenbergMarquardtOptions& options,
                                      const IterationCallback& callback) {
  options.validate();
  objective.require_residuals("Levenberg-Marquardt");
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("lm", options.stop, options.record_trace, callback);
  EvaluationCounts& counts = mon.counts();
  constexpr double eps = std::numeric_limits<double>::epsilon();

  LossGradient lg = objective.loss_gradient(x);
  ++counts.gradient;
  if (mon.begin(x, lg.loss, max_norm(lg.gradient))) return mon.finish();

  VectorXd r = objective.residuals(x);
  ++counts.loss;
  double r2 = r.squaredNorm();
  const bool wide = r.size() < x.size();
  MatrixXd jac, normal;
  bool need_jacobian = true;
  detail::NielsenDamping damping(options.min_damping_factor);  // lambda = mu |r|

  for (int it = 1;; ++it) {
    if (need_jacobian) {
      jac = objective.jacobian(x);
      ++counts.jacobian;
      normal = detail::gram_matrix(jac, wide);
      need_jacobian = false;
      // Nielsen's scale-aware start: lambda_0 = tau * max diag(A), expressed through mu.
      if (damping.unset())
        damping.set(options.initial_damping * normal.diagonal().maxCoeff() / std::sqrt(r2));
    }
    const double lambda = damping.mu() * std::sqrt(r2);
    IterationRecord rec;
    rec.damping = lambda;

    MatrixXd factor = normal;
    factor.diagonal().array() += lambda;
    const bool factorized = detail::cholesky_in_place(factor);
    ++counts.factorizations;
    bool accepted = false, floor_step = false;
    double rho = -1.0;
    double step_norm = 0.0;
    if (factorized) {
      // Minimum-norm form when wide: p = -J^T (J J^T + lambda I)^{-1} r, which equals
      // -(J^T J + lambda I)^{-1} J^T r (push-through identity) at O(m^3) instead of O(n^3).
      const VectorXd p = wide ? VectorXd(-(jac.transpose() * detail::cholesky_solve(factor, r)))
                              : VectorXd(-detail::cholesky_solve(factor, jac.transpose() * r));
      step_norm = p.norm();
      const VectorXd jp = jac * p;
      // Predicted decrease of |r|^2 by the linear model, written without the cancellation of
      // |r|^2 - |r + Jp|^2.
      const double predicted = -2.0 * r.dot(jp) - jp.squaredNorm();
      const VectorXd x_trial = x + p;
      if (x_trial == x) {
        mon.stop_with(
            Status::stalled,
            "the step (|p| = " + format_number(step_norm) +
                ") no longer changes x in floating point (loss = " + format_number(lg.loss) +
                ", |g|∞ = " + format_number(max_norm(lg.gradient)) + ")");
        break;
      }
      VectorXd r_trial = objective.residuals(x_trial);
      ++counts.loss;
      const double r2_trial = r_trial.squaredNorm();
      if (std::isfinite(r2_trial) && predicted > 0) rho = (r2 - r2_trial) / predicted;
      if (rho > options.acceptance_ratio) {
        x = x_trial;
        r = std::move(r_trial);
        r2 = r2_trial;
        lg = objective.loss_gradient(x);
        ++counts.gradient;
        need_jacobian = true;
        accepted = true;
      } else if (const double noise = objective.residual_rounding_level(r);
                 std::isfinite(r2_trial) && predicted <= noise && r2_trial <= r2 + noise) {
        // Round-off floor: the predicted and actual changes of |r|^2 are below its rounding
        // level, so rho is noise. Among such equally good points, take the trial when its
        // gradient (the certificate) is smaller.
        LossGradient trial = objective.loss_gradient(x_trial);
        ++counts.gradient;
        if (max_norm(trial.gradient) < max_norm(lg.gradient)) {
          x = x_trial;
          r = std::move(r_trial);
          r2 = r2_trial;
          lg = std::move(trial);
          need_jacobian = true;
          accepted = true;
          floor_step = true;
        }
      }
    }
    if (floor_step)
      damping.keep();
    else
      damping.update(accepted, rho);

    rec.step_norm = accepted ? step_norm : 0.0;
    if (mon.after_iteration(it, x, lg.loss, max_norm(lg.gradient), rec)) break;
    if (damping.mu() > options.max_damping_factor) {
      mon.stop_with(factorized ? Status::stalled : Status::factorization_failed,
                    std::string(factorized ? "no decrease of the loss" : "no factorization") +
                        " for damping up to mu = max_damping_factor = " +
                        format_number(options.max_damping_factor) +
                        " (loss = " + format_number(lg.loss) +
                        ", |g|∞ = " + format_number(max_norm(lg.gradient)) +
                        ", eps |x| = " + format_number(eps * x.norm()) + ")");
      break;
    }
  }
  return mon.finish();
}

}  // namespace locus::solvers
