#pragma once
// A supervised dataset: d points x_i in R^p (rows of x) with targets y_i in R^l (rows of y).

#include <Eigen/Core>
#include <string>

namespace locus {

struct Dataset {
  Eigen::MatrixXd x;  // d x p
  Eigen::MatrixXd y;  // d x l (one-hot rows for classification)
  std::string name;   // where it came from ("digits", "teacher[2,4,1] seed 3", a file path)

  Eigen::Index size() const { return x.rows(); }
  Eigen::Index input_dim() const { return x.cols(); }
  Eigen::Index output_dim() const { return y.cols(); }

  // Throws std::invalid_argument naming the problem: no points, x and y with different row
  // counts, or a NaN/inf entry (reported with its row and column).
  void validate() const;
  // Throws std::invalid_argument naming the first two equal rows of x (0-based), if any.
  // Cost O(d log d * p) (sort, then compare neighbours).
  void require_distinct_inputs() const;
};

}  // namespace locus
