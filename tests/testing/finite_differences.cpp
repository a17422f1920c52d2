#include "testing/finite_differences.hpp"

#include <algorithm>

namespace locus::testing {

double max_scaled_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& reference) {
  const double scale = std::max(1.0, reference.cwiseAbs().maxCoeff());
  return (a - reference).cwiseAbs().maxCoeff() / scale;
}

}  // namespace locus::testing
