#pragma once
// Gradient flow theta'(t) = -grad L(theta(t)), integrated by SUNDIALS CVODE (variable-order BDF,
// Newton iterations with the exact Jacobian -H).
//
//   locus::solvers::GradientFlowOptions options;
//   options.t_final = 1e4;
//   options.trajectory_points_per_decade = 10;   // theta(t) at t = 1e-3, 1.26e-3, ..., 1e4
//   auto r = locus::solvers::solve_gradient_flow(objective, theta0, options);
//   for (const auto& point : r.trajectory) std::printf("%g %g\n", point.time, point.loss);
//
// Linear solves inside BDF's Newton iterations, (I + gamma H) z = b:
//  - dense: -H from the dense Hessian (n HVPs per Jacobian update; CVODE reuses it over many
//    steps) and SUNDIALS' dense LU;
//  - iterative: GMRES (SPGMR) with exact Jacobian-vector products -H v (one HVP each, forward
//    pass cached per Newton iteration). For the squared loss GMRES is left-preconditioned with
//    the Gauss-Newton approximation I + 2c gamma J^T J, applied through the Woodbury identity
//    with an m x m Cholesky factor when J is wide (m = l*d < n): near zero loss H -> 2c J^T J,
//    so GMRES needs only a few iterations.
// The stopping tests run after every internal step, on L and grad L at the accepted state.
// Trajectory points are interpolated by CVODE's dense output (CVodeGetDky) at log-spaced times
// t_k = trajectory_t_first * 10^(k / trajectory_points_per_decade), plus t = 0 and the final
// state. An integrator error ends the run with Status::integration_failed and CVODE's message;
// reaching t_final gives Status::final_time. CVODE's warnings are captured, never printed.

#include <limits>
#include <string_view>

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

enum class FlowLinearSolver {
  automatic,  // squared loss: iterative; otherwise dense when n <= dense_max_params
  dense,
  iterative,
};
std::string_view to_string(FlowLinearSolver s);
FlowLinearSolver parse_flow_linear_solver(std::string_view name);

struct GradientFlowOptions {
  // Tests at every integrator step (max_iterations counts steps). The flow slows down near a
  // minimum; polish the end point with levenberg_marquardt.hpp or newton.hpp (see solve.hpp).
  StopCriteria stop = {
      .gradient_tolerance = 1e-6, .loss_tolerance = 1e-20, .max_iterations = 100000};
  // Integrate up to this time (Status::final_time); inf = until a stopping test fires.
  double t_final = std::numeric_limits<double>::infinity();
  // CVODE's local error test: |e_i| <= relative_tolerance |theta_i| + absolute_tolerance.
  double relative_tolerance = 1e-6;
  double absolute_tolerance = 1e-9;
  FlowLinearSolver linear_solver = FlowLinearSolver::automatic;
  // automatic, loss without residuals: dense Jacobian and LU when n <= dense_max_params.
  Index dense_max_params = 500;
  // GMRES Krylov subspace dimension (iterative solver).
  int krylov_dimension = 30;
  // Trajectory output: 0 = none; else this many log-spaced times per decade from
  // trajectory_t_first on, plus t = 0 and the final state.
  int trajectory_points_per_decade = 0;
  double trajectory_t_first = 1e-3;
  bool record_trace = false;  // one record per integrator step; step_size = h, flow_time = t

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

// Takes any function with second derivatives (hvp or a dense hessian; see core/problem.hpp),
// std::invalid_argument otherwise; "squared loss" above means a function with residuals (a
// LeastSquaresProblem whose has_residuals() holds), which enables the Gauss-Newton
// preconditioner. Cost per step: a few gradient evaluations (Newton iterations) plus, dense, a
// Hessian and an O(n^3) LU every few tens of steps, or, iterative, one HVP per GMRES iteration
// and for the squared loss a Jacobian and an O(min(m,n)^3) factorisation per preconditioner
// update.
SolveResult solve_gradient_flow(FunctionRef objective, Eigen::VectorXd theta0,
                                const GradientFlowOptions& options = {},
                                const IterationCallback& callback = {});

}  // namespace locus::solvers
