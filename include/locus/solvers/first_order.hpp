#pragma once
// First-order training: gradient descent (with heavy-ball momentum), mini-batch SGD with seeded
// shuffling, and Adam. These rarely reach machine precision; use them to study the dynamics of
// practical training, and polish with levenberg_marquardt.hpp or newton.hpp.
//
//   locus::Objective objective(model, data);
//   locus::solvers::SgdOptions options;
//   options.learning_rate = 1e-3;
//   options.batch_size = 32;
//   options.seed = 7;                          // same seed, same batches, same result
//   options.stop.max_iterations = 200;         // epochs
//   auto r = locus::solvers::solve_sgd(objective, model.init_parameters({.seed = 1}), options);
//   std::cout << locus::solvers::summary(r);
//
// Divergence (a learning rate too large for the curvature) ends with Status::non_finite and x at
// the last finite iterate; it never throws.

#include <cstdint>

#include "locus/core/problem.hpp"
#include "locus/solvers/result.hpp"

namespace locus::solvers {

// Full-batch gradient descent x <- x + v, v <- momentum * v - learning_rate * g (heavy ball;
// momentum = 0 is plain gradient descent).
struct GradientDescentOptions {
  StopCriteria stop = {
      .gradient_tolerance = 1e-8, .loss_tolerance = 1e-30, .max_iterations = 10000};
  // Fixed step length eta; stable for eta < 2 / lambda_max(H) (plain GD).
  double learning_rate = 1e-3;
  // Heavy-ball coefficient beta in [0, 1).
  double momentum = 0.0;
  bool record_trace = false;  // fill SolveResult::trace, one record per iteration

  // Throws std::invalid_argument naming the field: learning_rate <= 0 or not finite, momentum
  // outside [0, 1), or an invalid stop criterion.
  void validate() const;
};

// Mini-batch SGD with momentum on f = sum_{i < N} f_i (SumOfTerms; an MLP loss: one term per data
// point). Each epoch draws a fresh permutation of the N terms from a generator seeded with
// (seed, epoch) and visits them in batches of batch_size (the last batch may be smaller). The
// batch gradient times N / b is an unbiased estimate of the full gradient.
// Stopping tests, the trace and the callback run once per epoch on the full loss and gradient.
struct SgdOptions {
  StopCriteria stop = {.gradient_tolerance = 1e-8, .loss_tolerance = 1e-30, .max_iterations = 1000};
  double learning_rate = 1e-3;  // step length on the (rescaled) batch gradient
  double momentum = 0.0;        // heavy-ball coefficient in [0, 1)
  int batch_size = 32;          // points per batch; >= d means full-batch
  std::uint64_t seed = 0;       // seeds the shuffling
  bool record_trace = false;    // one record per epoch

  void validate() const;  // as GradientDescentOptions, and batch_size >= 1
};

// Full-batch Adam (Kingma & Ba 2015, with bias correction).
struct AdamOptions {
  StopCriteria stop = {
      .gradient_tolerance = 1e-8, .loss_tolerance = 1e-30, .max_iterations = 10000};
  double learning_rate = 1e-3;  // alpha
  double beta1 = 0.9;           // first-moment decay, in [0, 1)
  double beta2 = 0.999;         // second-moment decay, in [0, 1)
  double epsilon = 1e-8;        // added to sqrt(v_hat); > 0
  bool record_trace = false;

  void validate() const;
};

// Each solver takes any DifferentiableFunction (core/problem.hpp; SGD: a SumOfTerms, whose terms it
// batches, std::invalid_argument otherwise), validates its options first (std::invalid_argument),
// then iterates from theta0 until a
// StopCriteria test fires. Cost per iteration: one loss-and-gradient evaluation (GD, Adam), or one
// per batch plus one full evaluation per epoch (SGD).
SolveResult solve_gradient_descent(FunctionRef objective, Eigen::VectorXd theta0,
                                   const GradientDescentOptions& options = {},
                                   const IterationCallback& callback = {});
SolveResult solve_sgd(FunctionRef objective, Eigen::VectorXd theta0, const SgdOptions& options = {},
                      const IterationCallback& callback = {});
SolveResult solve_adam(FunctionRef objective, Eigen::VectorXd theta0,
                       const AdamOptions& options = {}, const IterationCallback& callback = {});

}  // namespace locus::solvers
