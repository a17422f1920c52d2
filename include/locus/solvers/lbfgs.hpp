#pragma once
// L-BFGS with a strong-Wolfe line search (Nocedal & Wright 2006, Alg. 7.4 two-loop recursion and
// Alg. 3.5/3.6 bracketing + zoom with cubic interpolation).
//
//   locus::Objective objective(model, data);
//   locus::solvers::LbfgsOptions options;
//   options.history = 50;
//   auto r = locus::solvers::solve_lbfgs(objective, theta0, options);
//   if (r.status == locus::solvers::Status::line_search_failed)
//     std::cout << "stopped at the round-off floor: " << r.message << "\n";
//
// Near the round-off floor of the loss no step can satisfy the sufficient-decrease condition any
// more: the run then ends with Status::line_search_failed at the best point found (for smooth
// problems this is where L-BFGS's attainable accuracy ends, typically L ~ 1e-20 ... 1e-26).

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

struct LbfgsOptions {
  StopCriteria stop = {
      .gradient_tolerance = 1e-13, .loss_tolerance = 1e-30, .max_iterations = 10000};
  // Number of (s, y) pairs kept for the inverse-Hessian approximation.
  int history = 20;
  // Sufficient-decrease constant c1 of the Wolfe conditions, 0 < c1 < c2.
  double wolfe_c1 = 1e-4;
  // Curvature constant c2 of the strong Wolfe condition |g(x+a p).p| <= c2 |g(x).p|, c2 < 1.
  double wolfe_c2 = 0.9;
  // Loss-and-gradient evaluations allowed per line search.
  int max_line_search_evaluations = 25;
  bool record_trace = false;  // one record per iteration; step_size = the accepted alpha

  // Throws std::invalid_argument naming the field (history < 1, constants outside
  // 0 < c1 < c2 < 1, max_line_search_evaluations < 1, an invalid stop criterion).
  void validate() const;
};

// Takes any DifferentiableFunction (core/problem.hpp). Cost per iteration: O(history * n) for the
// direction plus one loss-and-gradient evaluation per line-search trial (usually one). The first
// step is alpha = min(1, 1/|g|_1), afterwards 1.
SolveResult solve_lbfgs(FunctionRef objective, Eigen::VectorXd theta0,
                        const LbfgsOptions& options = {}, const IterationCallback& callback = {});

}  // namespace locus::solvers
