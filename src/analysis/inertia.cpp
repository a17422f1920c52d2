#include "locus/analysis/inertia.hpp"

#include "linalg/inertia.hpp"

namespace locus::analysis {

InertiaCount count_inertia(const Eigen::VectorXd& eigenvalues, Index n, double factor) {
  const linalg::Inertia in = linalg::inertia(eigenvalues, n, factor);
  InertiaCount c;
  c.positive = in.positive;
  c.zero = in.zero;
  c.negative = in.negative;
  c.tolerance = in.tolerance;
  c.gap = in.gap;
  c.complete = eigenvalues.size() == n;
  return c;
}

}  // namespace locus::analysis
