#include "locus/solvers/critical_point.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "dense.hpp"
#include "linalg/eigen.hpp"
#include "linalg/inertia.hpp"
#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using detail::state_text;
using Eigen::MatrixXd;
using Eigen::VectorXd;

void CriticalPointOptions::validate() const {
  stop.validate("CriticalPointOptions.stop");
  auto bad = [](const char* field, double v, const char* need) {
    throw std::invalid_argument(std::string("CriticalPointOptions.") + field + " must be " + need +
                                ", got " + format_number(v));
  };
  if (dense_max_params < 0) bad("dense_max_params", double(dense_max_params), ">= 0");
  detail::validate_damping("CriticalPointOptions", initial_damping, min_damping_factor,
                           max_damping_factor, acceptance_ratio);
  if (max_cg_iterations < 1) bad("max_cg_iterations", max_cg_iterations, ">= 1");
  if (!(inertia_tolerance_factor >= 0) || !std::isfinite(inertia_tolerance_factor))
    bad("inertia_tolerance_factor", inertia_tolerance_factor, "finite and >= 0");
  if (inertia_max_params < 0) bad("inertia_max_params", double(inertia_max_params), ">= 0");
}

namespace {

// The counts by locus's one zero-eigenvalue rule (linalg/inertia.hpp, as in the analysis layer):
// |lambda| <= factor * n * eps * max|lambda| is zero.
HessianInertia inertia_from(const VectorXd& eigenvalues, double tolerance_factor) {
  HessianInertia h;
  if (eigenvalues.size() == 0) return h;
  h.eigenvalue_min = eigenvalues.minCoeff();
  h.eigenvalue_max = eigenvalues.maxCoeff();
  const linalg::Inertia in = linalg::inertia(eigenvalues, eigenvalues.size(), tolerance_factor);
  h.negative = static_cast<int>(in.negative);
  h.zero = static_cast<int>(in.zero);
  h.positive = static_cast<int>(in.positive);
  h.tolerance = in.tolerance;
  return h;
}

// Solves (H^2 + nu I) p = b by conjugate gradients (H^2 + nu I is positive definite), two HVPs
// per iteration; relative residual 1e-2 * min(1, |g|) keeps the outer convergence superlinear.
VectorXd cg_squared(const HessianAt& op, const VectorXd& b, double nu, double tol, int max_iters,
                    EvaluationCounts& counts) {
  VectorXd p = VectorXd::Zero(b.size());
  VectorXd r = b, d = b;
  double rr = r.squaredNorm();
  const double stop = tol * tol * rr;
  for (int j = 0; j < max_iters && rr > stop; ++j) {
    const VectorXd ad = op.apply(op.apply(d)) + nu * d;
    counts.hessian_vector += 2;
    const double alpha = rr / d.dot(ad);
    p += alpha * d;
    r -= alpha * ad;
    const double rr_next = r.squaredNorm();
    d = r + (rr_next / rr) * d;
    rr = rr_next;
  }
  return p;
}

}  // namespace

HessianInertia hessian_inertia(FunctionRef objective, const VectorXd& x, double tolerance_factor) {
  if (!(tolerance_factor >= 0))
    throw std::invalid_argument("hessian_inertia: tolerance_factor must be >= 0, got " +
                                format_number(tolerance_factor));
  objective.require_second_derivatives("hessian_inertia");
  objective.check_parameters(x, "x");
  const MatrixXd h = objective.hessian(x);
  HessianInertia out;
  if (!h.allFinite()) return out;
  const linalg::SymmetricEigen eig = linalg::symmetric_eigen(h, false);
  if (!eig.converged) return out;
  return inertia_from(eig.values, tolerance_factor);
}

SolveResult solve_critical_point(FunctionRef objective, VectorXd x,
                                 const CriticalPointOptions& options,
                                 const IterationCallback& callback) {
  options.validate();
  objective.require_second_derivatives("the critical-point solver");
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("critical", options.stop, options.record_trace, callback);
  EvaluationCounts& counts = mon.counts();
  const bool dense = objective.n_params() <= options.dense_max_params;

  LossGradient lg = mon.start(objective, x);
  // Eigen-decomposition of H at the current x (dense path); valid while have_eigen.
  linalg::SymmetricEigen eig;
  bool have_eigen = false;

  if (!mon.stopped()) {
    detail::NielsenDamping damping(options.min_damping_factor);  // nu = mu |g|
    for (int it = 1;; ++it) {
      const VectorXd& g = lg.gradient;
      const double gnorm = g.norm();
      const double phi = 0.5 * g.squaredNorm();
      std::unique_ptr<HessianAt> op;
      if (dense && !have_eigen) {
        const MatrixXd h = objective.hessian(x);
        ++counts.hessian;
        counts.hessian_vector += x.size();
        ++counts.factorizations;
        if (h.allFinite()) eig = linalg::symmetric_eigen(h, true);
        if (!h.allFinite() || !eig.converged) {
          mon.stop_with(Status::non_finite,
                        "the Hessian is not finite or its eigendecomposition failed " +
                            state_text(lg.loss, max_norm(g)));
          break;
        }
        have_eigen = true;
      }
      if (!dense) op = std::make_unique<HessianAt>(objective.hessian_at(x));
      if (damping.unset()) {
        double scale;
        if (dense) {
          scale = eig.values.cwiseAbs2().maxCoeff();
        } else {
          const VectorXd hg = op->apply(g);
          ++counts.hessian_vector;
          scale = hg.squaredNorm() / g.squaredNorm();
        }
        damping.set(options.initial_damping * scale / gnorm);
      }
      const double nu = damping.mu() * gnorm;

      VectorXd p;
      double predicted;
      if (dense) {
        // In the eigenbasis: p_i = -lambda_i g_i / (lambda_i^2 + nu), and the linearised
        // gradient g + H p has components g_i nu / (lambda_i^2 + nu).
        const VectorXd gt = eig.vectors.transpose() * g;
        const VectorXd denom = eig.values.cwiseAbs2().array() + nu;
        p = -(eig.vectors * (eig.values.cwiseProduct(gt).cwiseQuotient(denom)));
        predicted = phi - 0.5 * (gt.array() * nu / denom.array()).matrix().squaredNorm();
      } else {
        const VectorXd hg = op->apply(g);
        ++counts.hessian_vector;
        p = -cg_squared(*op, hg, nu, 1e-2 * std::min(1.0, gnorm), options.max_cg_iterations,
                        counts);
        const VectorXd lin = g + op->apply(p);
        ++counts.hessian_vector;
        predicted = phi - 0.5 * lin.squaredNorm();
      }
      const double step_norm = p.norm();
      const VectorXd x_trial = x + p;
      if (x_trial == x) {
        mon.stop_with(Status::stalled, "the step (|p| = " + format_number(step_norm) +
                                           ") no longer changes x in floating point " +
                                           state_text(lg.loss, max_norm(g)));
        break;
      }
      LossGradient trial = objective.loss_gradient(x_trial);
      ++counts.gradient;
      double rho = -1.0;
      if (std::isfinite(trial.loss) && detail::all_finite(trial.gradient) && predicted > 0)
        rho = (phi - 0.5 * trial.gradient.squaredNorm()) / predicted;
      detail::DampedTrial trial_outcome{
          .accepted = rho > options.acceptance_ratio, .rho = rho, .step_norm = step_norm};
      if (trial_outcome.accepted) {
        x = x_trial;
        lg = std::move(trial);
        have_eigen = false;
      }
      if (detail::end_damped_iteration(
              mon, damping, options.max_damping_factor, it, x, lg, nu, trial_outcome,
              "no decrease of |g|^2 (a minimizer of |g|^2 that is not critical, or the round-off "
              "floor)",
              ""))
        break;
    }
  }
  const auto inertia_start = std::chrono::steady_clock::now();
  SolveResult result = mon.finish();
  if (objective.n_params() <= options.inertia_max_params) {
    if (have_eigen) {
      result.inertia = inertia_from(eig.values, options.inertia_tolerance_factor);
    } else {
      result.inertia = hessian_inertia(objective, result.theta, options.inertia_tolerance_factor);
      ++result.counts.hessian;
      result.counts.hessian_vector += result.theta.size();
      ++result.counts.factorizations;
    }
    result.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - inertia_start).count();
  }
  return result;
}

}  // namespace locus::solvers
