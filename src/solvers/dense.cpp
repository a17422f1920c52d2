#include "dense.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <vector>

#include "core/blas_threads.hpp"

// Fortran LAPACK (LP64), with gfortran's hidden string-length arguments.
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc,
            std::size_t, std::size_t);
}

namespace locus::solvers::detail {

// Below this size LAPACK's threads cost more than they bring; above it dpotrf keeps OpenBLAS's
// threads (the exception in core/blas_threads.hpp).
constexpr int k_blas_threshold = 1000;

bool cholesky_in_place(Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  if (n == 0) return true;
  // Small factorisations on one OpenBLAS thread: its worker threads would keep spinning after
  // the call and compete with locus's threads (a third of a gradient-flow run went to sched_yield
  // with threaded LAPACK on 500 x 500 factors). Not Eigen's LLT: its blocked updates allocate
  // their GEMM packing buffers on every call (OpenBLAS packs into memory it keeps), 1300 of the
  // 5000 page faults of a first Levenberg-Marquardt solve at d = 500.
  std::optional<locus::detail::SerialBlas> serial;
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
  // dsyrk, not Eigen's rankUpdate: Eigen runs it on one thread and allocates its packing buffers
  // on every call (a tall 3000 x 2410 Jacobian: their page faults were a tenth of an LM
  // iteration's time, the product on one core 40% of it); OpenBLAS packs into memory it keeps and,
  // from k_blas_threshold on, uses its threads (as the Cholesky factor that follows does).
  const int k = static_cast<int>(wide ? j.rows() : j.cols());
  const int depth = static_cast<int>(wide ? j.cols() : j.rows());
  const int ld = std::max(1, static_cast<int>(j.rows()));
  a.resize(k, k);
  if (k == 0) return;
  if (depth == 0) {
    a.setZero();
    return;
  }
  std::optional<locus::detail::SerialBlas> serial;
  if (k < k_blas_threshold) serial.emplace();
  const double one = 1.0, zero = 0.0;
  dsyrk_("L", wide ? "N" : "T", &k, &depth, &one, j.data(), &ld, &zero, a.data(), &k, 1, 1);
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

bool gauss_newton_matrix_free(FunctionRef f) {
  return f.has_residuals() && f.n_residuals() < f.n_params() && f.has_residual_gram() &&
         f.has_jacobian_products();
}

void gauss_newton_step(FunctionRef f, const Eigen::VectorXd& x, const Eigen::MatrixXd& factor,
                       const Eigen::VectorXd& b, Eigen::VectorXd& work, Eigen::VectorXd& p) {
  work = b;
  cholesky_solve_in_place(factor, work);
  p = -f.jacobian_transpose_product(x, work);
}

}  // namespace locus::solvers::detail
