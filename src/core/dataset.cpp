#include "locus/core/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace locus {

namespace {
std::string label(const Dataset& d) {
  return d.name.empty() ? "dataset" : "dataset '" + d.name + "'";
}

void check_finite(const Eigen::MatrixXd& m, const std::string& what) {
  for (Eigen::Index j = 0; j < m.cols(); ++j)
    for (Eigen::Index i = 0; i < m.rows(); ++i)
      if (!std::isfinite(m(i, j)))
        throw std::invalid_argument(what + " has a non-finite value (" + std::to_string(m(i, j)) +
                                    ") at row " + std::to_string(i) + ", column " +
                                    std::to_string(j));
}
}  // namespace

void Dataset::validate() const {
  if (x.rows() == 0) throw std::invalid_argument(label(*this) + " has no data points");
  if (x.cols() == 0) throw std::invalid_argument(label(*this) + ": inputs x have no columns");
  if (y.cols() == 0) throw std::invalid_argument(label(*this) + ": targets y have no columns");
  if (x.rows() != y.rows())
    throw std::invalid_argument(label(*this) + ": x has " + std::to_string(x.rows()) +
                                " rows but y has " + std::to_string(y.rows()));
  check_finite(x, label(*this) + ": x");
  check_finite(y, label(*this) + ": y");
}

void Dataset::require_distinct_inputs() const {
  std::vector<Eigen::Index> order(static_cast<size_t>(x.rows()));
  std::iota(order.begin(), order.end(), 0);
  auto less = [&](Eigen::Index a, Eigen::Index b) {
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      if (x(a, j) != x(b, j)) return x(a, j) < x(b, j);
    return a < b;
  };
  std::sort(order.begin(), order.end(), less);
  for (size_t k = 1; k < order.size(); ++k) {
    const Eigen::Index a = order[k - 1], b = order[k];
    if ((x.row(a).array() == x.row(b).array()).all())
      throw std::invalid_argument(label(*this) + ": inputs must be distinct, but rows " +
                                  std::to_string(std::min(a, b)) + " and " +
                                  std::to_string(std::max(a, b)) + " of x are equal");
  }
}

}  // namespace locus
