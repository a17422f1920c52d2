#pragma once
// Newton's method with a trust region on the exact Hessian H = grad^2 L.
//
//   locus::Objective objective(model, data);
//   locus::solvers::NewtonOptions options;
//   options.record_trace = true;
//   auto r = locus::solvers::solve_newton(objective, theta0, options);
//   // quadratic convergence near the (non-isolated) zero-loss manifold:
//   for (const auto& it : r.trace) std::printf("%d %.3e\n", it.iteration, it.loss);
//
// Two ways to solve the trust-region subproblem min_p g.p + p.B p / 2, chosen by size:
//  - dense (n <= dense_max_params): B is the exact Hessian (n Hessian-vector products) and the
//    step solves (B + lambda I) p = -g by Cholesky (LAPACK dpotrf). lambda = mu sqrt(L) is the
//    Levenberg parametrisation of the trust region (its radius is |p(lambda)|); mu follows the
//    ratio rho of actual to predicted decrease (Nielsen's update, as in
//    levenberg_marquardt.hpp), and a failed factorisation (B + lambda I not positive definite)
//    raises mu.
//  - matrix-free (larger n): Steihaug-Toint truncated CG on Hessian-vector products inside an
//    explicit radius Delta (Nocedal & Wright 2006, Alg. 7.2), forcing term min(1/2, sqrt|g|),
//    and the standard radius update.
//
// Model choice for the squared loss (dense path), NewtonModel::hybrid, the default: Fletcher &
// Xu's (1987) hybrid method. B is the Gauss-Newton matrix 2c J^T J after a step that decreased L
// by at least the fraction hybrid_decrease, and the exact Hessian after a slower step. Reason:
// from a random start, pure Newton on an overparameterized network is attracted by the many
// critical points of small but nonzero loss (measured on [10,200,1], d = 500: from an iterate
// at L = 3e-12 where Levenberg-Marquardt needed 8 more steps to L = 1e-28, exact Newton first
// closed in on a near-critical point, |g|∞ = 6e-11 at L = 1.2e-12, then crept to L = 2e-13 in
// 40 steps), while near a nonzero-residual minimum Gauss-Newton converges only
// linearly and the exact Hessian restores quadratic convergence. At zero-residual solutions the
// two models agree. NewtonModel::exact uses the Hessian in every step.
//
// Round-off floor (squared loss): as in levenberg_marquardt.hpp, a trial that changes L by less
// than its rounding level is taken when it lowers |g|∞.
//
// Failure modes (Status, never exceptions): factorization_failed when mu passes
// max_damping_factor without a factorisation; stalled when the step no longer changes x or no
// damping up to the cap decreases the loss.

#include <string_view>

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

enum class NewtonModel {
  exact,   // B = the exact Hessian in every step
  hybrid,  // squared loss: Gauss-Newton after fast steps, exact Hessian after slow ones
};
std::string_view to_string(NewtonModel m);
NewtonModel parse_newton_model(std::string_view name);

struct NewtonOptions {
  StopCriteria stop = {
      .gradient_tolerance = 1e-13, .loss_tolerance = 1e-30, .max_iterations = 5000};
  // Dense Hessian + Cholesky when n <= dense_max_params (8 n^2 bytes), Steihaug-CG above.
  Index dense_max_params = 4000;
  // Quadratic model of the dense path (see above); the Steihaug-CG path always uses the Hessian.
  NewtonModel model = NewtonModel::hybrid;
  // Hybrid: relative decrease (L_k - L_k+1) / L_k at or above which the next step uses the
  // Gauss-Newton model.
  double hybrid_decrease = 0.01;
  // Dense: the first shift is lambda_0 = initial_damping * max_i |B_ii|.
  double initial_damping = 1e-3;
  // Dense: bounds on mu = lambda / sqrt(L) (min 0 allows undamped Newton steps).
  double min_damping_factor = 1e-12;
  double max_damping_factor = 1e16;
  // Accept a trial step when rho = actual / predicted decrease > acceptance_ratio, in [0, 1/4).
  double acceptance_ratio = 1e-4;
  // Steihaug-CG: conjugate-gradient iterations (Hessian-vector products) per Newton iteration.
  int max_cg_iterations = 500;
  bool record_trace = false;  // damping = lambda (dense), step_size = Delta (Steihaug-CG)

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

// Takes any function with second derivatives (hvp or a dense hessian; core/problem.hpp),
// std::invalid_argument otherwise; "squared loss" above means a function with residuals
// (LeastSquaresProblem). Cost per iteration: dense exact model, one Hessian (n HVPs) and O(n^3 / 3)
// per factorisation; Gauss-Newton model, as one Levenberg-Marquardt iteration (a wide problem
// with residual_gram and J products, an MLP loss, never forms J); one loss evaluation per trial
// step. Steihaug-CG: up to max_cg_iterations HVPs.
SolveResult solve_newton(FunctionRef objective, Eigen::VectorXd theta0,
                         const NewtonOptions& options = {}, const IterationCallback& callback = {});

}  // namespace locus::solvers
