#include "linalg/svd.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "core/blas_threads.hpp"

// Fortran LAPACK (LP64), with gfortran's hidden string-length arguments.
extern "C" {
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork,
             int* iwork, int* info, std::size_t);
void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a,
             const int* lda, double* s, double* u, const int* ldu, double* vt, const int* ldvt,
             double* work, const int* lwork, int* info, std::size_t, std::size_t);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
             double* work, const int* lwork, int* info);
}

namespace locus::linalg {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// One LAPACK call with a workspace query; a is destroyed. Returns LAPACK's info.
int lapack_svd(MatrixXd& a, SvdVectors vectors, bool divide_and_conquer, VectorXd& s, MatrixXd& u,
               MatrixXd& vt) {
  const int m = int(a.rows()), n = int(a.cols()), p = std::min(m, n);
  const int ucols = vectors == SvdVectors::full ? m : p;
  const int vtrows = vectors == SvdVectors::full ? n : p;
  if (vectors != SvdVectors::none) {
    u.resize(m, ucols);
    vt.resize(vtrows, n);
  } else {
    u.resize(1, 1);
    vt.resize(1, 1);
  }
  const int ldu = std::max<int>(1, int(u.rows())), ldvt = std::max<int>(1, int(vt.rows()));
  const char* job = vectors == SvdVectors::full ? "A" : vectors == SvdVectors::thin ? "S" : "N";
  int info = 0, lwork = -1;
  double query = 0.0;
  std::vector<int> iwork(std::size_t(8) * std::size_t(std::max(p, 1)));
  if (divide_and_conquer)
    dgesdd_(job, &m, &n, a.data(), &m, s.data(), u.data(), &ldu, vt.data(), &ldvt, &query, &lwork,
            iwork.data(), &info, 1);
  else
    dgesvd_(job, job, &m, &n, a.data(), &m, s.data(), u.data(), &ldu, vt.data(), &ldvt, &query,
            &lwork, &info, 1, 1);
  if (info != 0) return info;
  lwork = int(query);
  std::vector<double> work(std::size_t(std::max(lwork, 1)));
  if (divide_and_conquer)
    dgesdd_(job, &m, &n, a.data(), &m, s.data(), u.data(), &ldu, vt.data(), &ldvt, work.data(),
            &lwork, iwork.data(), &info, 1);
  else
    dgesvd_(job, job, &m, &n, a.data(), &m, s.data(), u.data(), &ldu, vt.data(), &ldvt, work.data(),
            &lwork, &info, 1, 1);
  return info;
}

// [q, q_perp]: q (n x p, orthonormal columns) completed to an n x n orthogonal matrix. The
// complement comes from the Householder QR of q (dgeqrf, then dorgqr forms all n columns of Q):
// Q's first p columns span range(q), so its last n - p span the orthogonal complement. Cost
// O(n^2 p), blocked BLAS-3. Returns an empty matrix if LAPACK fails.
MatrixXd complete_basis(const MatrixXd& q) {
  const int n = int(q.rows()), p = int(q.cols());
  MatrixXd full = MatrixXd::Zero(n, n);
  full.leftCols(p) = q;
  std::vector<double> tau(std::size_t(std::max(p, 1)));
  int info = 0, lwork = -1;
  double query = 0.0;
  dgeqrf_(&n, &p, full.data(), &n, tau.data(), &query, &lwork, &info);
  if (info != 0) return {};
  lwork = std::max(1, int(query));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgeqrf_(&n, &p, full.data(), &n, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return {};
  lwork = -1;
  dorgqr_(&n, &n, &p, full.data(), &n, tau.data(), &query, &lwork, &info);
  if (info != 0) return {};
  lwork = std::max(1, int(query));
  work.assign(std::size_t(lwork), 0.0);
  dorgqr_(&n, &n, &p, full.data(), &n, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return {};
  full.leftCols(p) = q;  // keep the singular vectors themselves (Q has them up to sign)
  return full;
}

}  // namespace

Svd svd(MatrixXd a, SvdVectors vectors) {
  Svd out;
  const Index p = std::min(a.rows(), a.cols());
  out.values.resize(p);
  if (!a.allFinite()) {  // LAPACK does not check for NaN
    out.values.setConstant(NAN);
    return out;
  }
  if (p == 0) {
    out.converged = true;
    if (vectors == SvdVectors::full) {
      out.u = MatrixXd::Identity(a.rows(), a.rows());
      out.v = MatrixXd::Identity(a.cols(), a.cols());
    } else if (vectors == SvdVectors::thin) {
      out.u.resize(a.rows(), 0);
      out.v.resize(a.cols(), 0);
    }
    return out;
  }
  // Full factors of a non-square matrix: the thin SVD, then the short factor completed by a QR
  // (measured at 500 x 2401: dgesdd with all of V^T takes 2x longer than thin + completion).
  const bool complete = vectors == SvdVectors::full && a.rows() != a.cols();
  const SvdVectors job = complete ? SvdVectors::thin : vectors;
  MatrixXd vt;
  const detail::SerialBlas serial;  // see core/blas_threads.hpp
  // dgesdd destroys a; keep a copy only for the (rare) dgesvd retry.
  MatrixXd copy = a;
  int info = lapack_svd(a, job, true, out.values, out.u, vt);
  if (info > 0) info = lapack_svd(copy, job, false, out.values, out.u, vt);
  out.converged = info == 0;
  if (out.converged && vectors != SvdVectors::none) out.v = vt.transpose();
  if (out.converged && complete) {
    MatrixXd& short_factor = out.u.cols() < out.u.rows() ? out.u : out.v;
    short_factor = complete_basis(short_factor);
    out.converged = short_factor.size() > 0;
  }
  if (!out.converged) {
    out.values.setConstant(NAN);
    out.u.resize(0, 0);
    out.v.resize(0, 0);
    return out;
  }
  if (vectors == SvdVectors::none) out.u.resize(0, 0);
  return out;
}

RankDecision numerical_rank(const VectorXd& s, Index rows, Index cols, double factor) {
  RankDecision d;
  d.sigma_max = s.size() ? s[0] : 0.0;
  d.tolerance =
      factor * double(std::max(rows, cols)) * std::numeric_limits<double>::epsilon() * d.sigma_max;
  while (d.rank < s.size() && s[d.rank] > d.tolerance) ++d.rank;
  d.sigma_min_kept = d.rank > 0 ? s[d.rank - 1] : 0.0;
  d.sigma_first_dropped = d.rank < s.size() ? s[d.rank] : 0.0;
  if (d.rank == 0)
    d.gap = 0.0;
  else if (d.rank == s.size())
    d.gap = std::numeric_limits<double>::infinity();
  else
    d.gap = d.sigma_min_kept / std::max(d.sigma_first_dropped, 1e-300);
  return d;
}

VectorXd RankedSvd::pinv_solve(const VectorXd& r) const {
  const Index k = decision.rank;
  const VectorXd c = (svd.u.leftCols(k).transpose() * r).cwiseQuotient(svd.values.head(k));
  return svd.v.leftCols(k) * c;
}

VectorXd RankedSvd::kernel_component(const VectorXd& x) const {
  const Index k = decision.rank;
  return x - svd.v.leftCols(k) * (svd.v.leftCols(k).transpose() * x);
}

MatrixXd RankedSvd::normal_basis() const { return svd.v.leftCols(decision.rank); }

MatrixXd RankedSvd::tangent_basis() const { return svd.v.rightCols(svd.v.cols() - decision.rank); }

RankedSvd ranked_svd(const MatrixXd& a, SvdVectors vectors, double factor) {
  RankedSvd r;
  r.svd = svd(a, vectors);
  r.decision = numerical_rank(r.svd.values, a.rows(), a.cols(), factor);
  return r;
}

}  // namespace locus::linalg
