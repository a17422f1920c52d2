#include "dense.hpp"

#include <cstddef>
#include <vector>

// Fortran LAPACK (LP64), with gfortran's hidden string-length arguments.
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info, std::size_t);
void sgemv_(const char* trans, const int* m, const int* n, const float* alpha, const float* a,
            const int* lda, const float* x, const int* incx, const float* beta, float* y,
            const int* incy, std::size_t);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
             double* w, double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             std::size_t, std::size_t);
}

namespace locus::solvers::detail {

bool cholesky_in_place(Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  if (n == 0) return true;
  int info = 0;
  dpotrf_("L", &n, a.data(), &n, &info, 1);
  return info == 0;
}

Eigen::VectorXd cholesky_solve(const Eigen::MatrixXd& factor, const Eigen::VectorXd& b) {
  const int n = static_cast<int>(factor.rows());
  Eigen::VectorXd x = b;
  if (n == 0) return x;
  const int nrhs = 1;
  int info = 0;
  dpotrs_("L", &n, &nrhs, factor.data(), &n, x.data(), &n, &info, 1);
  return x;
}

Eigen::VectorXf gemv_float(const Eigen::MatrixXf& a, bool transpose, const Eigen::VectorXf& x) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols());
  Eigen::VectorXf y(transpose ? n : m);
  if (m == 0 || n == 0) {
    y.setZero();
    return y;
  }
  const float one = 1.0f, zero = 0.0f;
  const int inc = 1;
  sgemv_(transpose ? "T" : "N", &m, &n, &one, a.data(), &m, x.data(), &inc, &zero, y.data(), &inc,
         1);
  return y;
}

Eigen::MatrixXd gram_matrix(const Eigen::MatrixXd& j, bool wide) {
  const Eigen::Index k = wide ? j.rows() : j.cols();
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(k, k);
  if (wide)
    a.selfadjointView<Eigen::Lower>().rankUpdate(j);
  else
    a.selfadjointView<Eigen::Lower>().rankUpdate(j.transpose());
  a.triangularView<Eigen::StrictlyUpper>() = a.transpose();
  return a;
}

bool symmetric_eigen(Eigen::MatrixXd a, bool want_vectors, SymmetricEigen& out) {
  const int n = static_cast<int>(a.rows());
  out.values.resize(n);
  out.vectors.resize(0, 0);
  if (n == 0) return true;
  const char* jobz = want_vectors ? "V" : "N";
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0.0;
  dsyevd_(jobz, "L", &n, a.data(), &n, out.values.data(), &work_query, &lwork, &iwork_query,
          &liwork, &info, 1, 1);
  if (info != 0) return false;
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_(jobz, "L", &n, a.data(), &n, out.values.data(), work.data(), &lwork, iwork.data(),
          &liwork, &info, 1, 1);
  if (info != 0) return false;
  if (want_vectors) out.vectors = std::move(a);
  return true;
}

}  // namespace locus::solvers::detail
