#pragma once
// Test problems with a known answer for the solver tests.

#include <Eigen/Core>
#include <cstdint>

#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"

namespace locus::testing {

struct Problem {
  Mlp model;
  Dataset data;
  Eigen::VectorXd x0;
  Objective objective() const { return Objective(model, data); }
};

// Acceptance 1: a [p, teacher_width, 1] softplus teacher (Glorot, seeded) on d Gaussian inputs,
// learned by a wider [p, student_width, 1] softplus student from a seeded Glorot init. Realizable:
// the global minimum value is 0.
Problem realizable_teacher_student(std::uint64_t seed, Index d = 500, Index p = 10,
                                   Index teacher_width = 4, Index student_width = 200);

// Acceptance 2 (Cooper): d random Gaussian points in R^p with random Gaussian labels and a
// [p, h, 1] network with h >= d; zero loss is reachable for smooth rectified or softplus nets.
Problem cooper(std::uint64_t seed, Index d, Index p, Index h, Activation activation);

// A linear model [p, 1] with bias on d noisy points: a convex least-squares problem whose
// minimum value and minimiser are known in closed form.
struct LinearProblem {
  Problem problem;
  double loss_min;  // min L (sum of squared residuals of the least-squares fit)
};
LinearProblem linear_regression(std::uint64_t seed, Index d = 40, Index p = 3);

}  // namespace locus::testing
