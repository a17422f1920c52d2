#include "linalg/random.hpp"

namespace locus::linalg {

Eigen::VectorXd gaussian_vector(Eigen::Index n, Rng& rng) {
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v[i] = rng.normal();
  return v;
}

Eigen::VectorXd rademacher_vector(Eigen::Index n, Rng& rng) {
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v[i] = rng.uniform() < 0.5 ? -1.0 : 1.0;
  return v;
}

Eigen::VectorXd random_unit_vector(Eigen::Index n, Rng& rng) {
  // A Gaussian vector is 0 with probability 0; normalized() leaves a zero vector unchanged.
  return gaussian_vector(n, rng).normalized();
}

}  // namespace locus::linalg
