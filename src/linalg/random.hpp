#pragma once
// Seeded random directions (private to locus), drawn from locus::Rng so that every platform
// produces the same vectors for the same seed.

#include <Eigen/Core>

#include "locus/core/random.hpp"

namespace locus::linalg {

// n independent standard normal entries (Rng::normal, Box-Muller). O(n).
Eigen::VectorXd gaussian_vector(Eigen::Index n, Rng& rng);
// n independent entries +-1 with probability 1/2 each (Rng::uniform() < 1/2 gives -1); |v|^2 = n,
// E[v v^T] = I: the Hutchinson / SLQ probe. O(n).
Eigen::VectorXd rademacher_vector(Eigen::Index n, Rng& rng);
// A direction uniform on the unit sphere S^{n-1}: a Gaussian vector normalised. O(n).
Eigen::VectorXd random_unit_vector(Eigen::Index n, Rng& rng);

}  // namespace locus::linalg
