#pragma once
// Levenberg-Marquardt on the residuals r(x) (squared loss L = c |r|^2): the workhorse for
// driving overparameterized networks to zero loss at machine precision.
//
//   locus::Mlp model({.widths = {10, 200, 1}, .activation = locus::Activation::softplus});
//   locus::Objective objective(model, data);
//   auto r = locus::solvers::solve_levenberg_marquardt(objective,
//                                                      model.init_parameters({.seed = 1}));
//   // realizable teacher-student: r.loss_final ~ 1e-29, r.gradient_max_norm ~ 1e-15
//   std::cout << locus::solvers::summary(r);
//
// Step: v = -(J^T J + lambda I)^{-1} J^T r with lambda = mu |r|_2 (Fan & Yuan 2005: damping
// proportional to the residual norm gives quadratic convergence to non-isolated zero-residual
// solutions under a local error bound). When J is wide (m = l*d residuals < n parameters) the
// same step is computed as the minimum-norm form v = -J^T w, (J J^T + lambda I) w = r, an
// m x m Cholesky factorisation; otherwise the n x n normal equations are factored. A step is
// accepted when the gain ratio rho = actual / predicted decrease of |r|^2 exceeds
// acceptance_ratio; mu then follows Nielsen's schedule (mu *= max(1/3, 1 - (2 rho - 1)^3), not
// below min_damping_factor; after consecutive rejections mu *= 2, 4, 8, ...).
//
// Geodesic acceleration (Transtrum & Sethna 2012, on by default when m < n): p = v + a/2 with
// a = -(J^T J + lambda I)^{-1} J^T r_vv, the second directional derivative r_vv of the residuals
// along v taken by a finite difference (one more residual evaluation and one more solve with the
// same factor); p follows the curved valley of |r|^2 instead of its tangent. Where 2 |a| > 0.75 |v|
// the correction is not trusted and p = v; so too once the predicted decrease is within 2/h^2 = 200
// times the rounding level of |r|^2 (r_vv is then rounding). Tall problems (m >= n) take p = v:
// at their nonzero-residual minima (tests/cli/test_path_slice.py, the profile slices of
// python/tests/test_paths.py) accelerated runs ended above the gradient tolerance.
//
// Damping by shape. The first damping is lambda_0 = tau max diag(A), A = J J^T or J^T J, with tau =
// initial_damping when m < n and initial_damping_tall when m >= n. In the wide, zero-residual case
// (overparameterized nets: Cooper 2021, teacher-student) J J^T is nonsingular near the zero set
// and nearly undamped Gauss-Newton steps converge fastest; tall problems (more residuals than
// parameters) carry near-null directions of J^T J (redundant neurons) along which small damping
// sends long steps. Measured with bench/solvers/lm_damping.cpp (geodesic acceleration on for all
// shapes; iterations to loss < 1e-20 over seeds 0-9):
//   [10, 200, 1] student of [10, 4, 1], d = 500 (m = 500 < n = 2401): tau = 1e-3: median 40,
//     worst 54; 1e-4: 36, 53; 1e-5: 21.5, 63; 3e-6: 13, 53; 1e-6: 20, 114 (without acceleration:
//     1e-3: 111.5, 162; 3e-6: 17.5, 168)
//   [5, 40, 1] smoolu, d = 40 random labels (Cooper): tau = 1e-3: 16, 19; 3e-6: 17, 21
//   [3, 3, 1] student of [3, 2, 1], d = 150 (m > n): tau = 1e-3: 3 of 10 seeds reach 1e-20
//     (median 20); 3e-6: 2 of 10 (the others crawl toward singular zeros or stop at non-global
//     points with either tau; without acceleration: 3 of 10 at tau = 1e-3, median 21)
//
// Round-off floor: once the predicted and the actual changes of |r|^2 fall below its rounding
// level (each residual carries a few ulps of |f_i| + |y_i|), the gain ratio is noise; a trial
// step is then taken if it leaves |r|^2 unchanged within that level and lowers |g|∞, the
// certificate. The floor belongs to float64 parameters, not to the arithmetic: at a returned
// point, the gradient re-evaluated in 80-bit long double has the same size, and further steps
// on exact residuals lower the loss but not |g|∞. It grows with d and with the size of the
// output sums sum_j |a_j sigma(z_j)|. Measured floors of |g|∞ (sum reduction, Gaussian data):
//   [10, 200, 1] teacher-student, d = 500 ........ 1e-14 ... 9e-14
//   random labels, [10, h, 1], h = d, smoolu ...... d = 200: 4e-14 ... 8e-14, d = 300: ~1e-13,
//                                                   d = 500: 1.2e-13 ... 1.7e-13
//   random labels, softplus (sigma > 0: large output sums) d = 40: 1e-13 ... 6e-13,
//                                                   d = 500: 2e-12 ... 1e-11 (loss ~2e-26)
// The mean reduction divides both the loss and |g|∞ by l d.
//
// Failure modes (as Status, never exceptions): a Cholesky failure raises mu; when mu passes
// max_damping_factor the run ends with factorization_failed (no factorisation) or stalled (no
// decrease). When a step no longer changes x in floating point the run ends with stalled.

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

struct LevenbergMarquardtOptions {
  StopCriteria stop = {
      .gradient_tolerance = 1e-13, .loss_tolerance = 1e-30, .max_iterations = 5000};
  // tau when m < n (fewer residuals than parameters): lambda_0 = tau * max_i (J J^T)_ii.
  double initial_damping = 3e-6;
  // tau when m >= n: lambda_0 = tau * max_i (J^T J)_ii.
  double initial_damping_tall = 1e-3;
  // Lower bound on mu = lambda / |r|_2; 0 allows pure Gauss-Newton steps.
  double min_damping_factor = 1e-12;
  // Upper bound on mu; past it the run ends (factorization_failed or stalled).
  double max_damping_factor = 1e16;
  // Accept a trial step when rho > acceptance_ratio (0 <= acceptance_ratio < 1/4).
  double acceptance_ratio = 1e-4;
  // Transtrum & Sethna's geodesic acceleration, p = v + a/2, when m < n (see above).
  bool geodesic_acceleration = true;
  bool record_trace = false;  // one record per iteration (accepted or not); damping = lambda

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

// Takes a LeastSquaresProblem (core/problem.hpp: residuals and Jacobian; an MLP loss with the
// squared loss), std::invalid_argument naming the missing member otherwise. The round-off floor
// uses the model's residual_rounding_level when it has one, else one from the residuals alone. Cost
// per iteration: one Jacobian (O(m n)), J J^T (O(m^2 n)) and a Cholesky (O(m^3)) when wide, else
// J^T J (O(m n^2)) and O(n^3); one residual evaluation per trial step (two with geodesic
// acceleration, and a second solve with the same factor) and one loss-and-gradient per accepted
// step. The matrices and vectors are reused across iterations: after the first, an iteration
// allocates only what the objective returns (Jacobian, residuals, gradient).
SolveResult solve_levenberg_marquardt(FunctionRef objective, Eigen::VectorXd theta0,
                                      const LevenbergMarquardtOptions& options = {},
                                      const IterationCallback& callback = {});

}  // namespace locus::solvers
