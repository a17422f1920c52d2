#include "locus/solvers/newton.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "dense.hpp"
#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using detail::state_text;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string_view to_string(NewtonModel m) { return m == NewtonModel::exact ? "exact" : "hybrid"; }

NewtonModel parse_newton_model(std::string_view name) {
  if (name == "exact") return NewtonModel::exact;
  if (name == "hybrid") return NewtonModel::hybrid;
  throw std::invalid_argument("unknown Newton model '" + std::string(name) +
                              "' (valid: exact, hybrid)");
}

void NewtonOptions::validate() const {
  stop.validate("NewtonOptions.stop");
  auto bad = [](const char* field, double v, const char* need) {
    throw std::invalid_argument(std::string("NewtonOptions.") + field + " must be " + need +
                                ", got " + format_number(v));
  };
  if (dense_max_params < 0) bad("dense_max_params", double(dense_max_params), ">= 0");
  detail::validate_damping("NewtonOptions", initial_damping, min_damping_factor, max_damping_factor,
                           acceptance_ratio);
  if (!(hybrid_decrease >= 0 && hybrid_decrease <= 1))
    bad("hybrid_decrease", hybrid_decrease, "in [0, 1]");
  if (max_cg_iterations < 1) bad("max_cg_iterations", max_cg_iterations, ">= 1");
}

namespace {

// Dense Newton with the Levenberg-parametrised trust region and, for the squared loss, the
// Fletcher-Xu choice between the Gauss-Newton and the exact model (see newton.hpp).
SolveResult newton_dense(FunctionRef objective, VectorXd x, const NewtonOptions& options,
                         detail::Monitor& mon) {
  EvaluationCounts& counts = mon.counts();
  const bool squared = objective.has_residuals();
  const bool hybrid = squared && options.model == NewtonModel::hybrid;
  const double c = objective.residual_scale();
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();

  // Gauss-Newton pieces (residuals r, Jacobian J, A = J J^T or J^T J) or the exact Hessian.
  bool use_gauss_newton = hybrid;
  bool wide = false;
  VectorXd r;
  bool r_valid = false;  // r holds the residuals at x
  auto residuals_at_x = [&]() -> const VectorXd& {
    if (!r_valid) {
      r = objective.residuals(x);
      ++counts.loss;
      r_valid = true;
    }
    return r;
  };
  // factor is reused by every iteration: a model matrix above glibc's largest mmap threshold
  // (32 MiB; n = 2401 is 46 MB) would otherwise be a fresh mapping, every page faulted in again.
  MatrixXd jac, model_matrix, factor;
  // A wide MLP problem never builds J (dense.hpp), as in Levenberg-Marquardt.
  const bool matrix_free = detail::gauss_newton_matrix_free(objective);
  bool need_model = true;
  detail::NielsenDamping damping(options.min_damping_factor);  // lambda = mu sqrt(L)
  for (int it = 1;; ++it) {
    if (need_model) {
      if (use_gauss_newton) {
        residuals_at_x();
        ++counts.jacobian;
        if (matrix_free) {
          wide = true;
          objective.residual_gram(x, model_matrix);
        } else {
          objective.jacobian(x, jac);
          wide = jac.rows() < jac.cols();
          detail::gram_matrix(objective, x, jac, wide, model_matrix);
        }
      } else {
        model_matrix = objective.hessian(x);
        ++counts.hessian;
        counts.hessian_vector += x.size();
      }
      need_model = false;
      if (!model_matrix.allFinite()) {
        mon.stop_with(Status::non_finite,
                      std::string(use_gauss_newton ? "the Jacobian" : "the Hessian") +
                          " is not finite " + state_text(lg.loss, max_norm(lg.gradient)));
        break;
      }
      if (damping.unset()) {
        // lambda_0 = tau max_i |B_ii|, B = 2c J^T J (whose diagonal max equals that of 2c J J^T
        // only approximately; either sets the scale) or H.
        const double scale =
            (use_gauss_newton ? 2.0 * c : 1.0) * model_matrix.diagonal().cwiseAbs().maxCoeff();
        damping.set(options.initial_damping * scale / std::sqrt(std::max(lg.loss, 1e-300)));
      }
    }
    // The damping scales with sqrt(L) (the residual norm for the squared loss, as in LM).
    const double lambda = damping.mu() * std::sqrt(std::max(lg.loss, 0.0));

    factor = model_matrix;
    // Gauss-Newton: (2c J^T J + lambda I) p = -2c J^T r  <=>  (J^T J + lambda / 2c) p = -J^T r,
    // in the minimum-norm form p = -J^T (J J^T + lambda / 2c)^{-1} r when J is wide.
    factor.diagonal().array() += use_gauss_newton ? lambda / (2.0 * c) : lambda;
    const bool factorized = detail::cholesky_in_place(factor);
    ++counts.factorizations;
    bool accepted = false, floor_step = false;
    double rho = -1.0, step_norm = 0.0;
    if (factorized) {
      VectorXd p;
      double curvature;  // p.B p
      if (use_gauss_newton) {
        VectorXd work;
        if (matrix_free) {
          detail::gauss_newton_step(objective, x, factor, r, work, p);
          curvature = 2.0 * c * objective.jacobian_product(x, p).squaredNorm();
        } else {
          detail::gauss_newton_step(jac, factor, wide, r, work, p);
          curvature = 2.0 * c * (jac * p).squaredNorm();
        }
      } else {
        p = -detail::cholesky_solve(factor, lg.gradient);
        curvature = p.dot(model_matrix * p);
      }
      step_norm = p.norm();
      // m(0) - m(p) = -g.p - p.B p / 2 > 0 whenever B + lambda I is positive definite.
      const double predicted = -lg.gradient.dot(p) - 0.5 * curvature;
      const VectorXd x_trial = x + p;
      if (x_trial == x) {
        mon.stop_with(Status::stalled, "the step (|p| = " + format_number(step_norm) +
                                           ") no longer changes x in floating point " +
                                           state_text(lg.loss, max_norm(lg.gradient)));
        break;
      }
      const double loss_trial = objective.loss(x_trial);
      ++counts.loss;
      if (std::isfinite(loss_trial) && predicted > 0) rho = (lg.loss - loss_trial) / predicted;
      // Round-off floor (squared loss, as in levenberg_marquardt.cpp): when the predicted and
      // actual changes of L are below its rounding level, take the trial if its gradient is
      // smaller.
      const double noise = squared ? c * objective.residual_rounding_level(residuals_at_x()) : 0.0;
      const bool at_floor = squared && std::isfinite(loss_trial) && predicted <= noise &&
                            loss_trial <= lg.loss + noise;
      if (rho > options.acceptance_ratio || at_floor) {
        LossGradient trial = objective.loss_gradient(x_trial);
        ++counts.gradient;
        const bool take =
            detail::all_finite(trial.gradient) &&
            (rho > options.acceptance_ratio || max_norm(trial.gradient) < max_norm(lg.gradient));
        if (take) {
          const double decrease = (lg.loss - trial.loss) / lg.loss;
          floor_step = !(rho > options.acceptance_ratio);
          x = x_trial;
          lg = std::move(trial);
          need_model = true;
          r_valid = false;
          accepted = true;
          // Fletcher-Xu: keep Gauss-Newton while it makes fast progress (at the floor: keep the
          // model).
          if (hybrid && !floor_step) use_gauss_newton = decrease >= options.hybrid_decrease;
        }
      }
    }
    const detail::DampedTrial outcome{.factorized = factorized,
                                      .accepted = accepted,
                                      .floor_step = floor_step,
                                      .rho = rho,
                                      .step_norm = step_norm};
    if (detail::end_damped_iteration(mon, damping, options.max_damping_factor, it, x, lg, lambda,
                                     outcome, "no decrease of the loss",
                                     "B + lambda I not positive definite"))
      break;
  }
  return mon.finish();
}

// Steihaug-Toint CG for min g.p + p.Hp/2 subject to |p| <= radius. Returns the step; sets
// on_boundary when it stopped at the trust-region boundary (negative curvature or too long).
VectorXd steihaug_cg(const HessianAt& op, const VectorXd& g, double radius, int max_iters,
                     EvaluationCounts& counts, bool& on_boundary) {
  const Eigen::Index n = g.size();
  VectorXd p = VectorXd::Zero(n);
  VectorXd r = g;  // residual of H p + g
  VectorXd d = -r;
  const double gnorm = g.norm();
  // Forcing term eta = min(1/2, sqrt|g|): superlinear convergence (Nocedal & Wright Alg. 7.1).
  const double tol = std::min(0.5, std::sqrt(gnorm)) * gnorm;
  double rr = r.squaredNorm();
  on_boundary = false;
  // Positive tau with |p + tau d| = radius.
  auto to_boundary = [&](const VectorXd& p0, const VectorXd& dir) {
    const double a = dir.squaredNorm(), b = 2.0 * p0.dot(dir),
                 c = p0.squaredNorm() - radius * radius;
    const double disc = std::sqrt(std::max(0.0, b * b - 4.0 * a * c));
    return (-b + disc) / (2.0 * a);
  };
  for (int j = 0; j < max_iters; ++j) {
    const VectorXd hd = op.apply(d);
    ++counts.hessian_vector;
    const double dhd = d.dot(hd);
    if (!(dhd > 0)) {  // negative (or zero) curvature: go to the boundary along d
      p += to_boundary(p, d) * d;
      on_boundary = true;
      return p;
    }
    const double alpha = rr / dhd;
    const VectorXd p_next = p + alpha * d;
    if (p_next.norm() >= radius) {
      p += to_boundary(p, d) * d;
      on_boundary = true;
      return p;
    }
    p = p_next;
    r += alpha * hd;
    const double rr_next = r.squaredNorm();
    if (std::sqrt(rr_next) <= tol) return p;
    d = -r + (rr_next / rr) * d;
    rr = rr_next;
  }
  return p;
}

SolveResult newton_steihaug(FunctionRef objective, VectorXd x, const NewtonOptions& options,
                            detail::Monitor& mon) {
  EvaluationCounts& counts = mon.counts();
  constexpr double eps = std::numeric_limits<double>::epsilon();
  auto op = std::make_unique<HessianAt>(objective.hessian_at(x));
  ++counts.gradient;
  double loss = op->loss();
  if (mon.begin(x, loss, max_norm(op->gradient()))) return mon.finish();
  // First radius: the length of the Cauchy step |g|^3 / g.Hg (or |g| without positive curvature).
  double radius;
  {
    const VectorXd& g = op->gradient();
    const double ghg = g.dot(op->apply(g));
    ++counts.hessian_vector;
    radius = ghg > 0 ? std::pow(g.norm(), 3) / ghg : g.norm();
  }
  for (int it = 1;; ++it) {
    const VectorXd& g = op->gradient();
    bool on_boundary = false;
    const VectorXd p = steihaug_cg(*op, g, radius, options.max_cg_iterations, counts, on_boundary);
    const VectorXd hp = op->apply(p);
    ++counts.hessian_vector;
    const double predicted = -g.dot(p) - 0.5 * p.dot(hp);
    const VectorXd x_trial = x + p;
    IterationRecord rec;
    rec.step_size = radius;
    double rho = -1.0;
    bool accepted = false;
    if (x_trial == x) {
      mon.stop_with(Status::stalled, "the step (|p| = " + format_number(p.norm()) +
                                         ") no longer changes x in floating point " +
                                         state_text(loss, max_norm(g)));
      break;
    }
    const double loss_trial = objective.loss(x_trial);
    ++counts.loss;
    if (std::isfinite(loss_trial) && predicted > 0) rho = (loss - loss_trial) / predicted;
    const double step_norm = p.norm();
    if (rho < 0.25)
      radius = 0.25 * step_norm;
    else if (rho > 0.75 && on_boundary)
      radius = 2.0 * radius;
    if (rho > options.acceptance_ratio) {
      auto next = std::make_unique<HessianAt>(objective.hessian_at(x_trial));
      ++counts.gradient;
      if (std::isfinite(next->loss()) && detail::all_finite(next->gradient())) {
        x = x_trial;
        op = std::move(next);
        loss = op->loss();
        accepted = true;
      }
    }
    rec.step_norm = accepted ? step_norm : 0.0;
    if (mon.after_iteration(it, x, loss, max_norm(op->gradient()), rec)) break;
    if (radius <= eps * std::max(1.0, x.norm())) {
      mon.stop_with(Status::stalled, "the trust-region radius " + format_number(radius) +
                                         " fell below eps |x| " +
                                         state_text(loss, max_norm(op->gradient())));
      break;
    }
  }
  return mon.finish();
}

}  // namespace

SolveResult solve_newton(FunctionRef objective, VectorXd theta0, const NewtonOptions& options,
                         const IterationCallback& callback) {
  options.validate();
  objective.require_second_derivatives("Newton's method");
  objective.check_parameters(theta0, "theta0");
  detail::Monitor mon("newton", options.stop, options.record_trace, callback);
  if (objective.n_params() <= options.dense_max_params)
    return newton_dense(objective, std::move(theta0), options, mon);
  return newton_steihaug(objective, std::move(theta0), options, mon);
}

}  // namespace locus::solvers
