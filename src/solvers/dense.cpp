#include "dense.hpp"

#include <cstddef>
#include <optional>
#include <vector>

#include "linalg/blas_threads.hpp"

// Fortran LAPACK (LP64), with gfortran's hidden string-length arguments.
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
}

namespace locus::solvers::detail {

// Below this size LAPACK's threads cost more than they bring; above it dpotrf keeps OpenBLAS's
// threads (the exception in linalg/blas_threads.hpp).
constexpr int k_blas_threshold = 1000;

bool cholesky_in_place(Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  if (n == 0) return true;
  // Small factorisations on one OpenBLAS thread: its worker threads would keep spinning after
  // the call and compete with locus's threads (a third of a gradient-flow run went to sched_yield
  // with threaded LAPACK on 500 x 500 factors). Not Eigen's LLT: its blocked updates allocate
  // their GEMM packing buffers on every call (OpenBLAS packs into memory it keeps), 1300 of the
  // 5000 page faults of a first Levenberg-Marquardt solve at d = 500.
  std::optional<linalg::SerialBlas> serial;
  if (n < k_blas_threshold) serial.emplace();
  int info = 0;
  dpotrf_("L", &n, a.data(), &n, &info, 1);
  // OpenBLAS's dpotrf tests each pivot by d <= 0, which a NaN passes: a NaN anywhere in the lower
  // triangle reaches the diagonal of L (each d_i subtracts the squares of row i of L).
  return info == 0 && a.diagonal().allFinite();
}

Eigen::VectorXd cholesky_solve(const Eigen::MatrixXd& factor, const Eigen::VectorXd& b) {
  Eigen::VectorXd x = b;
  cholesky_solve_in_place(factor, x);
  return x;
}

void cholesky_solve_in_place(const Eigen::MatrixXd& factor, Eigen::VectorXd& b) {
  // Two triangular solves with L (lower triangle of factor), O(n^2).
  factor.triangularView<Eigen::Lower>().solveInPlace(b);
  factor.triangularView<Eigen::Lower>().transpose().solveInPlace(b);
}

Eigen::MatrixXd gram_matrix(const Eigen::MatrixXd& j, bool wide) {
  Eigen::MatrixXd a;
  gram_matrix(j, wide, a);
  return a;
}

void gram_matrix(const Eigen::MatrixXd& j, bool wide, Eigen::MatrixXd& a) {
  const Eigen::Index k = wide ? j.rows() : j.cols();
  a.setZero(k, k);
  if (wide)
    a.selfadjointView<Eigen::Lower>().rankUpdate(j);
  else
    a.selfadjointView<Eigen::Lower>().rankUpdate(j.transpose());
  a.triangularView<Eigen::StrictlyUpper>() = a.transpose();
}

void gram_matrix(FunctionRef f, const Eigen::VectorXd& x, const Eigen::MatrixXd& j, bool wide,
                 Eigen::MatrixXd& a) {
  if (wide && f.has_residual_gram())
    f.residual_gram(x, a);
  else
    gram_matrix(j, wide, a);
}

void gauss_newton_step(const Eigen::MatrixXd& jac, const Eigen::MatrixXd& factor, bool wide,
                       const Eigen::VectorXd& b, Eigen::VectorXd& work, Eigen::VectorXd& p) {
  if (wide) {
    work = b;
    cholesky_solve_in_place(factor, work);
    p.noalias() = -jac.transpose() * work;  // the sign folds into GEMV's alpha: no temporary
  } else {
    work.noalias() = jac.transpose() * b;
    cholesky_solve_in_place(factor, work);
    p = -work;
  }
}

}  // namespace locus::solvers::detail
