#include "linalg/eigen.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "core/blas_threads.hpp"
#include "locus/io/memory.hpp"

// Fortran LAPACK (LP64), with gfortran's hidden string-length arguments.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info, std::size_t, std::size_t);
extern "C" void dsyevd_2stage_(const char* jobz, const char* uplo, const int* n, double* a,
                               const int* lda, double* w, double* work, const int* lwork,
                               int* iwork, const int* liwork, int* info, std::size_t, std::size_t);

namespace locus::linalg {

SymmetricEigen symmetric_eigen(Eigen::MatrixXd a, bool want_vectors) {
  SymmetricEigen out;
  const int n = static_cast<int>(a.rows());
  out.values.resize(n);
  if (n == 0) {
    out.converged = true;
    return out;
  }
  // LAPACK does not check for NaN: it may loop or return garbage, so refuse up front.
  if (!a.allFinite()) {
    out.values.setConstant(NAN);
    return out;
  }
  // Values only: the two-stage reduction (dense -> band by BLAS-3, band -> tridiagonal by bulge
  // chasing) instead of dsytrd's half BLAS-2 sweep over the whole matrix.
  const char* jobz = want_vectors ? "V" : "N";
  const auto eig = want_vectors ? dsyevd_ : dsyevd_2stage_;
  const detail::SerialBlas serial;  // see core/blas_threads.hpp
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0.0;
  eig(jobz, "L", &n, a.data(), &n, out.values.data(), &work_query, &lwork, &iwork_query, &liwork,
      &info, 1, 1);
  if (info == 0) {
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    // With vectors the workspace is 2 n^2 doubles (92 MB at n = 2401), left uninitialised and
    // on 2 MiB pages (io::advise_huge_pages): eigenvectors at that n took 1.47 -> 1.25 s on a VM.
    const auto work = std::make_unique_for_overwrite<double[]>(static_cast<std::size_t>(lwork));
    io::advise_huge_pages(work.get(), sizeof(double) * static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    eig(jobz, "L", &n, a.data(), &n, out.values.data(), work.get(), &lwork, iwork.data(), &liwork,
        &info, 1, 1);
  }
  out.converged = info == 0;
  if (!out.converged) {
    out.values.setConstant(NAN);
    return out;
  }
  if (want_vectors) out.vectors = std::move(a);
  return out;
}

SymmetricEigen small_symmetric_eigen(const Eigen::MatrixXd& a) {
  SymmetricEigen out;
  if (!a.allFinite()) {
    out.values = Eigen::VectorXd::Constant(a.rows(), NAN);
    return out;
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(a, Eigen::ComputeEigenvectors);
  out.converged = es.info() == Eigen::Success;
  out.values = out.converged ? es.eigenvalues() : Eigen::VectorXd::Constant(a.rows(), NAN);
  if (out.converged) out.vectors = es.eigenvectors();
  return out;
}

}  // namespace locus::linalg
