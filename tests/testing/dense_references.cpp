#include "testing/dense_references.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

namespace locus::testing {

Eigen::VectorXd jacobi_singular_values(const Eigen::MatrixXd& a) {
  return Eigen::JacobiSVD<Eigen::MatrixXd>(a).singularValues();
}

Eigen::VectorXd symmetric_eigenvalues(const Eigen::MatrixXd& a) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(a, Eigen::EigenvaluesOnly).eigenvalues();
}

}  // namespace locus::testing
