#pragma once
// Loss slices along filter-normalised random directions (Li, Xu, Taylor, Studer & Goldstein
// 2018): each row of each weight matrix of a Gaussian direction is rescaled to the norm of the
// same row of theta; bias entries are zeroed (as in Li et al.). The loss on alpha in [-radius,
// radius] (1D) or the square (2D).

#include <Eigen/Core>
#include <cstdint>

#include "locus/core/objective.hpp"

namespace locus::analysis {

struct SliceOptions {
  double radius = 1.0;
  int points = 41;  // per axis
  std::uint64_t seed = 0;
};
struct LossSlice {
  Eigen::VectorXd alpha, beta;  // beta empty for 1D
  Eigen::MatrixXd loss;         // points x 1 (1D) or points x points (2D), loss(i, j) at (a_i, b_j)
};
// The direction d described above, seeded. O(n). Throws std::invalid_argument for a
// wrong-length theta.
Eigen::VectorXd filter_normalized_direction(const Mlp& model, const Eigen::VectorXd& theta,
                                            std::uint64_t seed);
// L(theta + alpha_i d), points losses (direction seed options.seed). Throws std::invalid_argument
// unless points >= 2 and radius > 0.
LossSlice loss_slice_1d(const Objective& objective, const Eigen::VectorXd& theta,
                        const SliceOptions& options = {});
// L(theta + alpha_i d1 + beta_j d2), points^2 losses (seeds options.seed and seed + 1). Throws as
// loss_slice_1d.
LossSlice loss_slice_2d(const Objective& objective, const Eigen::VectorXd& theta,
                        const SliceOptions& options = {});

}  // namespace locus::analysis
