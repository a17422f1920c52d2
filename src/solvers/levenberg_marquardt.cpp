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
  if (!(initial_damping_tall > 0) || !std::isfinite(initial_damping_tall))
    throw std::invalid_argument(
        "LevenbergMarquardtOptions.initial_damping_tall must be finite and > 0, got " +
        format_number(initial_damping_tall));
}

namespace {

// Transtrum & Sethna (2012): the finite-difference step h of the second directional derivative
// r_vv ~ (2 / h) ((r(x + h v) - r(x)) / h - J v), and the largest accepted ratio 2 |a| / |v|
// (their alpha); a larger correction means the quadratic path is not trustworthy and the plain
// step v is taken instead.
constexpr double k_acceleration_h = 0.1;
constexpr double k_acceleration_ratio = 0.75;

}  // namespace

SolveResult solve_levenberg_marquardt(FunctionRef objective, VectorXd x,
                                      const LevenbergMarquardtOptions& options,
                                      const IterationCallback& callback) {
  options.validate();
  objective.require_residuals("Levenberg-Marquardt");
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("lm", options.stop, options.record_trace, callback);
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();
  EvaluationCounts& counts = mon.counts();
  constexpr double eps = std::numeric_limits<double>::epsilon();

  VectorXd r = objective.residuals(x);
  ++counts.loss;
  double r2 = r.squaredNorm();
  const bool wide = r.size() < x.size();
  // Buffers every iteration reuses: after the first, an iteration allocates only what the
  // objective returns (the Jacobian, residuals, gradient). One matrix holds the Gram A (J J^T or
  // J^T J, from the model into the same memory at every new x) and the Cholesky factor of
  // A + lambda I: dpotrf / LLT read and write the lower triangle only, so A stays in the strictly
  // upper triangle and gram_diagonal, and a retry with another lambda restores the lower
  // triangle from them (O(m^2), no second m x m matrix to fault in).
  MatrixXd jac, factor;
  VectorXd gram_diagonal, work, v, accel, jv, x_trial, r_trial, r_vv;
  bool lower_is_gram = false;  // factor's lower triangle still holds A (not yet factorised)
  bool need_jacobian = true;
  detail::NielsenDamping damping(options.min_damping_factor);  // lambda = mu |r|
  // A wide MLP problem never builds J (dense.hpp).
  const bool matrix_free = detail::gauss_newton_matrix_free(objective);
  // p = -(J^T J + lambda I)^{-1} J^T b from the factor of the smaller system.
  const auto step = [&](const VectorXd& b, VectorXd& p) {
    if (matrix_free) return detail::gauss_newton_step(objective, x, factor, b, work, p);
    detail::gauss_newton_step(jac, factor, wide, b, work, p);
  };

  for (int it = 1;; ++it) {
    if (need_jacobian) {
      if (matrix_free) {
        objective.residual_gram(x, factor);
      } else {
        objective.jacobian(x, jac);
        detail::gram_matrix(objective, x, jac, wide, factor);
      }
      gram_diagonal = factor.diagonal();
      lower_is_gram = true;
      ++counts.jacobian;
      need_jacobian = false;
      // Nielsen's scale-aware start: lambda_0 = tau * max diag(A), expressed through mu, with
      // tau by shape (levenberg_marquardt.hpp).
      if (damping.unset())
        damping.set((wide ? options.initial_damping : options.initial_damping_tall) *
                    gram_diagonal.maxCoeff() / std::sqrt(r2));
    }
    const double lambda = damping.mu() * std::sqrt(r2);
    if (!lower_is_gram) factor.triangularView<Eigen::StrictlyLower>() = factor.transpose();
    factor.diagonal() = gram_diagonal.array() + lambda;
    lower_is_gram = false;
    detail::DampedTrial trial{.factorized = detail::cholesky_in_place(factor)};
    ++counts.factorizations;
    if (trial.factorized) {
      // Velocity v = -(J^T J + lambda I)^{-1} J^T r (gauss_newton_step picks the smaller system).
      step(r, v);
      if (matrix_free)
        jv = objective.jacobian_product(x, v);
      else
        jv.noalias() = jac * v;
      // Predicted decrease of |r|^2 by the linear model along v, written without the
      // cancellation of |r|^2 - |r + Jv|^2. With geodesic acceleration, J a/2 cancels the
      // curvature term r_vv / 2 of the quadratic path (a solves the same least-squares system for
      // -r_vv), so the prediction of v stands for the whole step.
      const double predicted = -2.0 * r.dot(jv) - jv.squaredNorm();
      // The finite difference multiplies the rounding of r by 2 / h^2 = 200: once the predicted
      // decrease is within that factor of the rounding level of |r|^2 (near a minimum, at the
      // round-off floor), r_vv is mostly rounding and the plain step v is taken.
      const double noise = objective.residual_rounding_level(r);
      bool accelerated = false;
      // Wide problems only (levenberg_marquardt.hpp: measured there; on tall nonzero-residual
      // minima the accelerated steps end above the gradient tolerance where plain ones do not).
      if (options.geodesic_acceleration && wide &&
          predicted > 2.0 / (k_acceleration_h * k_acceleration_h) * noise) {
        x_trial = x + k_acceleration_h * v;
        r_vv = objective.residuals(x_trial);
        ++counts.loss;
        r_vv = (2.0 / k_acceleration_h) * ((r_vv - r) / k_acceleration_h - jv);
        step(r_vv, accel);
        accelerated = r_vv.allFinite() && 2.0 * accel.norm() <= k_acceleration_ratio * v.norm();
      }
      if (accelerated)
        x_trial = x + v + 0.5 * accel;
      else
        x_trial = x + v;
      trial.step_norm = (x_trial - x).norm();
      if (x_trial == x) {
        mon.stop_with(Status::stalled, "the step (|p| = " + format_number(v.norm()) +
                                           ") no longer changes x in floating point " +
                                           detail::state_text(lg.loss, max_norm(lg.gradient)));
        break;
      }
      r_trial = objective.residuals(x_trial);
      ++counts.loss;
      const double r2_trial = r_trial.squaredNorm();
      if (std::isfinite(r2_trial) && predicted > 0) trial.rho = (r2 - r2_trial) / predicted;
      if (trial.rho > options.acceptance_ratio) {
        x.swap(x_trial);
        r.swap(r_trial);
        r2 = r2_trial;
        lg = objective.loss_gradient(x);
        ++counts.gradient;
        need_jacobian = true;
        trial.accepted = true;
      } else if (std::isfinite(r2_trial) && predicted <= noise && r2_trial <= r2 + noise) {
        // Round-off floor: the predicted and actual changes of |r|^2 are below its rounding
        // level, so rho is noise. Among such equally good points, take the trial when its
        // gradient (the certificate) is smaller.
        LossGradient at_trial = objective.loss_gradient(x_trial);
        ++counts.gradient;
        if (max_norm(at_trial.gradient) < max_norm(lg.gradient)) {
          x.swap(x_trial);
          r.swap(r_trial);
          r2 = r2_trial;
          lg = std::move(at_trial);
          need_jacobian = true;
          trial.accepted = true;
          trial.floor_step = true;
        }
      }
    }
    if (detail::end_damped_iteration(mon, damping, options.max_damping_factor, it, x, lg, lambda,
                                     trial, "no decrease of the loss", "no factorization")) {
      if (mon.result().status == Status::stalled ||
          mon.result().status == Status::factorization_failed)
        mon.result().message += ", eps |x| = " + format_number(eps * x.norm());
      break;
    }
  }
  return mon.finish();
}

}  // namespace locus::solvers
