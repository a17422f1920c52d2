// Acceptance sweeps on the [10, 200, 1], d = 500 realizable teacher-student problem (ctest
// label "slow"): every seed must reach loss <= 1e-26 and max|g_i| <= 1e-13 with default options.
// Judged by loss, gradient and status only: the minima form a manifold, so parameters differ.

#include <gtest/gtest.h>

#include <cstdio>

#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace locus::solvers {
namespace {

// The acceptance thresholds. They sit above the round-off floor of this problem: with
// residuals accurate to ~1e-15 (eps times the size of the output sums), 500 points give
// L ~ 500 * (1e-15)^2 ~ 1e-28 and |g|∞ = 2 |J^T r|∞ ~ 2 sqrt(500) |J| 1e-15 ~ 1e-13 at worst.
constexpr double k_loss_target = 1e-26;
constexpr double k_gradient_target = 1e-13;
constexpr int k_seeds = 5;

void expect_machine_precision(const SolveResult& r, std::uint64_t seed) {
  std::printf("seed %llu: %s, %d iterations, %.2f s, loss %.3g, |g|inf %.3g\n",
              static_cast<unsigned long long>(seed), std::string(to_string(r.status)).c_str(),
              r.iterations, r.seconds, r.loss_final, r.gradient_max_norm);
  EXPECT_TRUE(r.converged()) << "seed " << seed << ": " << r.message;
  EXPECT_LE(r.loss_final, k_loss_target) << "seed " << seed << "\n" << summary(r);
  EXPECT_LE(r.gradient_max_norm, k_gradient_target) << "seed " << seed << "\n" << summary(r);
}

void sweep(const TrainOptions& options) {
  for (std::uint64_t seed = 0; seed < k_seeds; ++seed) {
    const testing::Problem p = testing::realizable_teacher_student(seed);
    expect_machine_precision(solve(p.objective(), p.x0, options), seed);
  }
}

TEST(SlowAcceptance, LevenbergMarquardtReachesMachinePrecisionOnEverySeed) {
  TrainOptions o;
  o.method = Method::lm;
  sweep(o);
}

TEST(SlowAcceptance, NewtonReachesMachinePrecisionOnEverySeed) {
  TrainOptions o;
  o.method = Method::newton;
  sweep(o);
}

TEST(SlowAcceptance, FlowThenPolishReachesMachinePrecisionOnEverySeed) {
  TrainOptions o;
  o.method = Method::flow;
  o.polish = Method::lm;
  sweep(o);
}

}  // namespace
}  // namespace locus::solvers
