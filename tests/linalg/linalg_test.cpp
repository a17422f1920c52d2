// The private dense linear algebra, checked by residuals and against Eigen's own solvers (an
// independent implementation), at sizes 10 and 100.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "core/blas_threads.hpp"
#include "linalg/eigen.hpp"
#include "linalg/inertia.hpp"
#include "linalg/random.hpp"
#include "linalg/svd.hpp"
#include "testing/dense_references.hpp"
#include "testing/tolerances.hpp"

// OpenBLAS's own control, to give it a thread count the scopes must change and then restore.
extern "C" __attribute__((weak)) void openblas_set_num_threads(int);

namespace locus::linalg {
namespace {

using detail::blas_threads;
using detail::SerialBlas;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::k_eps;

MatrixXd gaussian_matrix(Index m, Index n, std::uint64_t seed) {
  Rng rng(seed);
  MatrixXd a(m, n);
  for (Index i = 0; i < a.size(); ++i) a.data()[i] = rng.normal();
  return a;
}

// Backward stability: |A Q - Q Lambda| <= c n eps |A|_2 and |Q^T Q - I| <= c n eps, c = 10 for
// the accumulation constants of Householder tridiagonalisation and divide and conquer (or QR
// iteration); values ascending. Returns the bound c n eps |A|_2.
double expect_backward_stable(const MatrixXd& a, const SymmetricEigen& e) {
  const Index n = a.rows();
  EXPECT_TRUE(e.converged);
  const double norm = e.values.cwiseAbs().maxCoeff();
  const double tol = 10.0 * double(n) * k_eps * norm;
  EXPECT_LE((a * e.vectors - e.vectors * e.values.asDiagonal()).cwiseAbs().maxCoeff(), tol);
  EXPECT_LE((e.vectors.transpose() * e.vectors - MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(),
            10.0 * double(n) * k_eps);
  for (Index i = 1; i < n; ++i) EXPECT_LE(e.values[i - 1], e.values[i]);
  return tol;
}

TEST(Linalg, SymmetricEigenResidualAndEigenAgreement) {
  for (Index n : {Index(10), Index(100)}) {
    const MatrixXd g = gaussian_matrix(n, n, 1);
    const MatrixXd a = g + g.transpose();
    const SymmetricEigen e = symmetric_eigen(a, true);
    ASSERT_TRUE(e.converged);
    const double tol = expect_backward_stable(a, e);
    const VectorXd ref = testing::symmetric_eigenvalues(a);
    EXPECT_LE((ref - e.values).cwiseAbs().maxCoeff(), tol);
    const SymmetricEigen values_only = symmetric_eigen(a, false);
    EXPECT_EQ(values_only.vectors.size(), 0);
    EXPECT_LE((values_only.values - e.values).cwiseAbs().maxCoeff(), tol);
  }
  MatrixXd bad = MatrixXd::Identity(3, 3);
  bad(1, 1) = NAN;
  EXPECT_FALSE(symmetric_eigen(bad, false).converged);
}

// Every LAPACK call runs with OpenBLAS held to one thread (blas_threads.hpp), and the count the
// process had is restored afterwards, also when scopes nest or open on several threads at once.
TEST(Linalg, LapackRunsOnOneBlasThreadAndRestoresTheCount) {
  if (blas_threads() == 0 || !openblas_set_num_threads) GTEST_SKIP() << "LAPACK is not OpenBLAS";
  const int before = blas_threads();
  openblas_set_num_threads(3);
  if (blas_threads() != 3) GTEST_SKIP() << "OpenBLAS refused 3 threads on this machine";
  {
    const SerialBlas outer;
    EXPECT_EQ(blas_threads(), 1);
    { const SerialBlas inner; }
    EXPECT_EQ(blas_threads(), 1);  // an inner scope's end does not restore
  }
  EXPECT_EQ(blas_threads(), 3);
  std::vector<std::thread> threads;
  std::vector<int> seen(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&seen, t] {
      const SerialBlas scope;
      seen[std::size_t(t)] = blas_threads();
    });
  for (std::thread& t : threads) t.join();
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(blas_threads(), 3);
  const MatrixXd g = gaussian_matrix(50, 50, 2);
  EXPECT_TRUE(symmetric_eigen(g + g.transpose(), false).converged);
  EXPECT_TRUE(svd(g, SvdVectors::full).converged);
  EXPECT_EQ(blas_threads(), 3);
  openblas_set_num_threads(before);
}

// The small-matrix solver (Eigen's QR iteration, no BLAS) meets the same backward-stability
// bounds and agrees with LAPACK's values within them; NaN gives converged = false.
TEST(Linalg, SmallSymmetricEigenAgreesWithLapack) {
  for (Index n : {Index(1), Index(21), Index(60)}) {
    const MatrixXd g = gaussian_matrix(n, n, 3);
    const MatrixXd a = g + g.transpose();
    const SymmetricEigen e = small_symmetric_eigen(a);
    ASSERT_TRUE(e.converged);
    const double tol = expect_backward_stable(a, e);
    EXPECT_LE((symmetric_eigen(a, false).values - e.values).cwiseAbs().maxCoeff(), 2 * tol);
  }
  MatrixXd bad = MatrixXd::Identity(3, 3);
  bad(2, 0) = INFINITY;
  const SymmetricEigen e = small_symmetric_eigen(bad);
  EXPECT_FALSE(e.converged);
  EXPECT_TRUE(e.values.array().isNaN().all());
}

// A = U S V^T to ~ min(m, n) eps |A|_2, orthonormal factors, values as Eigen's JacobiSVD, for
// tall, wide and square matrices and every SvdVectors mode.
TEST(Linalg, SvdReconstructsAndMatchesJacobi) {
  for (auto [m, n] : {std::pair<Index, Index>{10, 10}, {100, 30}, {30, 100}}) {
    SCOPED_TRACE(std::to_string(m) + " x " + std::to_string(n));
    const MatrixXd a = gaussian_matrix(m, n, 2);
    const Index p = std::min(m, n);
    const Svd thin = svd(a, SvdVectors::thin);
    ASSERT_TRUE(thin.converged);
    const double tol = 10.0 * double(std::max(m, n)) * k_eps * thin.values[0];
    EXPECT_LE((thin.u * thin.values.asDiagonal() * thin.v.transpose() - a).cwiseAbs().maxCoeff(),
              tol);
    EXPECT_EQ(thin.u.cols(), p);
    EXPECT_EQ(thin.v.cols(), p);
    const VectorXd ref = testing::jacobi_singular_values(a);
    EXPECT_LE((ref - thin.values).cwiseAbs().maxCoeff(), tol);
    const Svd none = svd(a, SvdVectors::none);
    EXPECT_EQ(none.u.size() + none.v.size(), 0);
    EXPECT_LE((none.values - thin.values).cwiseAbs().maxCoeff(), tol);
    const Svd full = svd(a, SvdVectors::full);
    ASSERT_EQ(full.v.rows(), n);
    ASSERT_EQ(full.v.cols(), n);
    EXPECT_LE((full.v.transpose() * full.v - MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(),
              10.0 * double(n) * k_eps);
    EXPECT_LE((full.u.transpose() * full.u - MatrixXd::Identity(m, m)).cwiseAbs().maxCoeff(),
              10.0 * double(m) * k_eps);
    EXPECT_LE((full.u.leftCols(p) * full.values.asDiagonal() * full.v.leftCols(p).transpose() - a)
                  .cwiseAbs()
                  .maxCoeff(),
              tol);
  }
  MatrixXd bad = MatrixXd::Ones(3, 4);
  bad(2, 1) = INFINITY;
  const Svd failed = svd(bad, SvdVectors::thin);
  EXPECT_FALSE(failed.converged);
  EXPECT_TRUE(std::isnan(failed.values[0]));
  EXPECT_EQ(ranked_svd(bad, SvdVectors::none).decision.rank, 0);
}

// A matrix of exact rank 3 (product of 8 x 3 and 3 x 12 factors): the rule finds 3 with a
// gap ~ sigma_3 / (eps sigma_1) >> 1; pinv_solve gives the minimum-norm solution of a consistent
// system; the tangent basis spans ker A.
TEST(Linalg, RankDecisionPseudoInverseAndBases) {
  const MatrixXd a = gaussian_matrix(8, 3, 3) * gaussian_matrix(3, 12, 4);
  const RankedSvd r = ranked_svd(a, SvdVectors::full);
  ASSERT_TRUE(r.svd.converged);
  EXPECT_EQ(r.decision.rank, 3);
  EXPECT_DOUBLE_EQ(r.decision.tolerance, 12.0 * k_eps * r.decision.sigma_max);
  EXPECT_GT(r.decision.gap, 1e10);
  EXPECT_EQ(r.decision.sigma_min_kept, r.svd.values[2]);
  EXPECT_EQ(r.decision.sigma_first_dropped, r.svd.values[3]);
  const double tol = 100.0 * 12.0 * k_eps * r.decision.sigma_max;
  EXPECT_EQ(r.tangent_basis().cols(), 9);
  EXPECT_LE((a * r.tangent_basis()).cwiseAbs().maxCoeff(), tol);
  EXPECT_EQ(r.normal_basis().cols(), 3);
  // b in range(A): x = A^+ b solves A x = b and is orthogonal to ker A.
  const VectorXd b = a * gaussian_matrix(12, 1, 5);
  const VectorXd x = r.pinv_solve(b);
  EXPECT_LE((a * x - b).cwiseAbs().maxCoeff(), tol * x.norm());
  EXPECT_LE(r.kernel_component(x).norm(), tol / r.decision.sigma_min_kept * x.norm());
  // Edge cases of the gap: full rank -> inf, zero matrix -> rank 0, gap 0.
  EXPECT_TRUE(std::isinf(ranked_svd(gaussian_matrix(4, 6, 6), SvdVectors::none).decision.gap));
  const RankDecision zero = ranked_svd(MatrixXd::Zero(3, 4), SvdVectors::none).decision;
  EXPECT_EQ(zero.rank, 0);
  EXPECT_EQ(zero.gap, 0.0);
}

TEST(Linalg, InertiaRule) {
  VectorXd lambda(4);
  lambda << -1.0, 1e-17, 2.0, 3.0;
  const Inertia c = inertia(lambda, 4, 10.0);
  EXPECT_DOUBLE_EQ(c.tolerance, zero_eigenvalue_tolerance(4, 10.0, 3.0));
  EXPECT_DOUBLE_EQ(c.tolerance, 10.0 * 4.0 * k_eps * 3.0);
  EXPECT_EQ(c.negative, 1);
  EXPECT_EQ(c.zero, 1);
  EXPECT_EQ(c.positive, 2);
  EXPECT_DOUBLE_EQ(c.gap, 1.0 / 1e-17);
}

// Seeded: the same seed gives the same vectors; Rademacher entries are +-1; unit vectors have
// norm 1 to round-off; the first Gaussian entry is Rng::normal's.
TEST(Linalg, RandomDirections) {
  Rng a(11), b(11);
  EXPECT_EQ(gaussian_vector(50, a), gaussian_vector(50, b));
  const VectorXd r = rademacher_vector(1000, a);
  EXPECT_EQ(r.cwiseAbs(), VectorXd::Ones(1000));
  EXPECT_GT(r.sum(), -200);  // a fair coin: |sum| ~ sqrt(1000) ~ 32, 6 sigma is 190
  EXPECT_LT(r.sum(), 200);
  EXPECT_NEAR(random_unit_vector(30, a).norm(), 1.0, 4 * k_eps);
  Rng c(3), d(3);
  EXPECT_EQ(gaussian_vector(1, c)[0], d.normal());
}

}  // namespace
}  // namespace locus::linalg
