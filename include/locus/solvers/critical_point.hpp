#pragma once
// Critical points of any index: Levenberg-Marquardt on the gradient map F(x) = grad L(x), i.e.
// Gauss-Newton on phi(x) = |grad L(x)|^2 / 2 with Jacobian H = grad^2 L. It converges to the
// critical point near the start whatever its index (minimum, saddle, maximum), where minimizers
// would slide off a saddle. At the end it reports the Hessian's inertia (the index = the number
// of negative eigenvalues).
//
//   locus::solvers::CriticalPointOptions options;
//   auto r = locus::solvers::solve_critical_point(objective, x_near_saddle, options);
//   if (r.converged() && r.inertia)
//     std::cout << "critical point of index " << r.inertia->negative << "\n";
//
// Step: p = -(H^2 + nu I)^{-1} H g with nu = mu |g|_2 (Yamashita & Fukushima 2001 / Fan & Yuan
// 2005: quadratic convergence to non-isolated solutions of F(x) = 0 under a local error bound,
// which holds on the smooth manifolds of critical points that neuron duplication creates).
// For n <= dense_max_params the Hessian is formed and eigendecomposed once per accepted step
// (LAPACK dsyevd), so every trial damping is a diagonal rescaling; above, the step is found by
// conjugate gradients on H^2 + nu I with two Hessian-vector products per iteration.
// mu follows Nielsen's gain-ratio rule on phi. The merit is |g|^2, not L: the method may also
// stop at a local minimizer of |g|^2 that is not critical (reported as stalled, with |g|).

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

struct CriticalPointOptions {
  // The loss test is off (-inf): a saddle has nonzero loss.
  StopCriteria stop = {.gradient_tolerance = 1e-13,
                       .loss_tolerance = -std::numeric_limits<double>::infinity(),
                       .max_iterations = 200};
  // Dense Hessian + eigendecomposition per step when n <= dense_max_params, CG above.
  Index dense_max_params = 3000;
  // The first damping is nu_0 = initial_damping * max_i lambda_i^2 (dense) or |H g|^2/|g|^2.
  double initial_damping = 1e-3;
  // Bounds on mu = nu / |g|_2.
  double min_damping_factor = 1e-12;
  double max_damping_factor = 1e16;
  // Accept a trial step when rho = actual / predicted decrease of phi > acceptance_ratio.
  double acceptance_ratio = 1e-4;
  // CG iterations per step on the matrix-free path.
  int max_cg_iterations = 500;
  // Eigenvalues with |lambda| <= inertia_tolerance_factor * n * eps * max_i |lambda_i| count as
  // zero: locus's one rule (the backward error of a symmetric eigensolver is ~ n eps |H|), the
  // same as analysis's SpectrumOptions::zero_tolerance_factor.
  double inertia_tolerance_factor = 10.0;
  // The inertia is reported when n <= inertia_max_params (a dense eigendecomposition).
  Index inertia_max_params = 4000;
  bool record_trace = false;  // damping = nu

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

// Takes any function with second derivatives (hvp or a dense hessian; see core/problem.hpp),
// std::invalid_argument otherwise. Cost per accepted step (dense): one Hessian (n HVPs) and one
// symmetric eigendecomposition (O(9 n^3)); each trial costs one gradient. Fills
// SolveResult::inertia when n is small enough.
SolveResult solve_critical_point(FunctionRef objective, Eigen::VectorXd theta0,
                                 const CriticalPointOptions& options = {},
                                 const IterationCallback& callback = {});

// The inertia of the dense Hessian at x (any function with second derivatives): eigenvalues with
// |lambda| <= tolerance_factor * n * eps * max|lambda| count as zero (locus's one rule). Cost: n
// HVPs and an O(n^3) eigendecomposition. Throws std::invalid_argument on a wrong-length x or
// tolerance_factor < 0; a non-finite Hessian gives NaN eigenvalue bounds and all counts 0.
HessianInertia hessian_inertia(FunctionRef objective, const Eigen::VectorXd& x,
                               double tolerance_factor = 10.0);

}  // namespace locus::solvers
