// Thick-restart Lanczos against independent references: eigenvalues known in closed form (a
// diagonal spectrum hidden by a Householder reflection), Eigen's dense symmetric solver, and
// Spectra's implicitly restarted Lanczos (the same Krylov spaces, so about the same number of
// operator applications).
#include "linalg/lanczos.hpp"

#include <Spectra/SymEigsSolver.h>
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "linalg/random.hpp"
#include "locus/core/objective.hpp"
#include "testing/tolerances.hpp"

namespace locus::linalg {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::k_eps;

// A = H D H with H = I - 2 u u^T (|u| = 1): eigenvalues exactly diag(D), eigenvectors H e_i,
// dense in every coordinate. O(n) per application.
struct ReflectedDiagonal {
  VectorXd d, u;
  ReflectedDiagonal(VectorXd diag, std::uint64_t seed) : d(std::move(diag)) {
    Rng rng(seed);
    u = random_unit_vector(d.size(), rng);
  }
  void operator()(const double* v, double* y) const {
    const Eigen::Map<const VectorXd> x(v, d.size());
    VectorXd hx = x - 2.0 * u.dot(x) * u;
    hx.array() *= d.array();
    Eigen::Map<VectorXd>(y, d.size()) = hx - 2.0 * u.dot(hx) * u;
  }
  VectorXd sorted() const {
    VectorXd s = d;
    std::sort(s.data(), s.data() + s.size());
    return s;
  }
};

VectorXd gaussian_start(Index n, std::uint64_t seed) {
  Rng rng(seed);
  return gaussian_vector(n, rng);
}

// The reference for each wanted mode: the k largest, the k smallest, or both, ascending.
VectorXd expected(const VectorXd& sorted, Index k, LanczosWanted w) {
  if (w == LanczosWanted::largest) return sorted.tail(k);
  if (w == LanczosWanted::smallest) return sorted.head(k);
  VectorXd both(2 * k);
  both << sorted.head(k), sorted.tail(k);
  return both;
}

// A converged pair has residual r <= tolerance |theta| (the stopping test) plus the rounding of
// the Lanczos relation, ~ m eps |A| (m <= 41 columns, the constant 10 covers the accumulation of
// the Gram-Schmidt products). For a symmetric A the eigenvalue error is at most r (Weyl), and
// far less when the gap to the rest of the spectrum is large (r^2 / gap), so r bounds it.
void check(const VectorXd& sorted, const LanczosResult& r, Index k, LanczosWanted w,
           double tolerance) {
  ASSERT_TRUE(r.converged);
  const VectorXd want = expected(sorted, k, w);
  ASSERT_EQ(r.values.size(), want.size());
  const double norm = sorted.cwiseAbs().maxCoeff();
  const double bound = tolerance * norm + 10.0 * 41 * k_eps * norm;
  EXPECT_LE(r.residuals.maxCoeff(), bound);
  for (Index i = 0; i < want.size(); ++i) EXPECT_NEAR(r.values[i], want[i], bound) << i;
}

// Spectra's application count for the same problem (its default ncv = max(2 nev + 1, 20) too).
// (Spectra's operator concept; at namespace scope, where Spectra's use of its Scalar is seen.)
struct SpectraOp {
  using Scalar = double;
  const ReflectedDiagonal& a;
  Index rows() const { return a.d.size(); }
  Index cols() const { return a.d.size(); }
  void perform_op(const double* v, double* y) const { a(v, y); }
};
template <Spectra::SortRule Rule>
long long spectra_applications(const ReflectedDiagonal& a, Index nev, const VectorXd& start,
                               double tolerance) {
  SpectraOp op{a};
  const Index n = a.d.size();
  Spectra::SymEigsSolver<SpectraOp> eigs(op, nev,
                                         std::min<Index>(n, std::max<Index>(2 * nev + 1, 20)));
  eigs.init(start.data());
  eigs.compute(Rule, 1000, tolerance);
  EXPECT_EQ(eigs.info(), Spectra::CompInfo::Successful);
  return eigs.num_operations();
}

// Spectra with exact shifts and thick restart keep the same Krylov spaces, so they need the same
// applications up to the restart details and rounding, less the steps locus saves by testing
// convergence after every step (Spectra tests a full space): within 15% (measured: 0-9%).
TEST(Lanczos, MatchesClosedFormAndSpectraApplicationCounts) {
  for (Index n : {Index(300), Index(3000)}) {
    // An indefinite spectrum in [-1, 5], d(t) = 5 t^3 - (1 - t)^3 on an even grid of t: gaps
    // about 15/n at the top and 3/n at the bottom, dense in the middle.
    VectorXd d(n);
    for (Index i = 0; i < n; ++i) {
      const double t = double(i) / double(n - 1);
      d[i] = 5.0 * t * t * t - (1.0 - t) * (1.0 - t) * (1.0 - t);
    }
    const ReflectedDiagonal a(d, 7);
    const VectorXd start = gaussian_start(n, 3);
    const double tol = 1e-10;
    for (LanczosWanted w :
         {LanczosWanted::largest, LanczosWanted::smallest, LanczosWanted::both_ends}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", wanted " + std::to_string(int(w)));
      const Index k = 6;
      const LanczosResult r = lanczos_extreme(a, n, start, {.k = k, .wanted = w, .tolerance = tol});
      check(a.sorted(), r, k, w, tol);
      long long spectra = 0;
      if (w == LanczosWanted::largest)
        spectra = spectra_applications<Spectra::SortRule::LargestAlge>(a, k, start, tol);
      else if (w == LanczosWanted::smallest)
        spectra = spectra_applications<Spectra::SortRule::SmallestAlge>(a, k, start, tol);
      else
        spectra = spectra_applications<Spectra::SortRule::BothEnds>(a, 2 * k, start, tol);
      EXPECT_LE(double(r.applications), 1.15 * double(spectra)) << "Spectra " << spectra;
      EXPECT_GE(double(r.applications), 0.85 * double(spectra)) << "Spectra " << spectra;
      EXPECT_GE(r.restarts, 1);  // these spectra need restarts: the restart path ran
    }
  }
}

// A dense random symmetric matrix (Gaussian, semicircle spectrum): eigenvalues from Eigen's
// dense solver, an implementation independent of LAPACK and of Lanczos.
TEST(Lanczos, MatchesDenseSolverOnRandomMatrix) {
  const Index n = 200;
  Rng rng(5);
  MatrixXd g(n, n);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = rng.normal();
  const MatrixXd a = (g + g.transpose()) / std::sqrt(2.0 * double(n));
  const VectorXd sorted = Eigen::SelfAdjointEigenSolver<MatrixXd>(a).eigenvalues();
  const SymmetricMap apply = [&](const double* v, double* y) {
    Eigen::Map<VectorXd>(y, n).noalias() = a * Eigen::Map<const VectorXd>(v, n);
  };
  for (LanczosWanted w : {LanczosWanted::largest, LanczosWanted::both_ends}) {
    const LanczosResult r =
        lanczos_extreme(apply, n, gaussian_start(n, 1), {.k = 4, .wanted = w, .tolerance = 1e-12});
    check(sorted, r, 4, w, 1e-12);
  }
}

// More rows than one block (8192), so several blocks run on the threads: the same bits for 1, 2
// and 3 threads (blocks fixed by n, partial sums added in block order).
TEST(Lanczos, BitwiseIdenticalForAnyThreadCount) {
  const Index n = 20000;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = std::sin(double(i)) + (i % 97 == 0 ? 3.0 : 0.0);
  const ReflectedDiagonal a(d, 2);
  const VectorXd start = gaussian_start(n, 9);
  const int saved = num_threads();
  std::vector<LanczosResult> runs;
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    runs.push_back(lanczos_extreme(a, n, start, {.k = 5, .tolerance = 1e-10}));
  }
  set_num_threads(saved);
  check(a.sorted(), runs[0], 5, LanczosWanted::largest, 1e-10);
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].applications, runs[0].applications);
    for (Index j = 0; j < 5; ++j) {
      EXPECT_EQ(runs[i].values[j], runs[0].values[j]);
      EXPECT_EQ(runs[i].residuals[j], runs[0].residuals[j]);
    }
  }
}

// On a large operator (n >= 25 m^2) convergence is tested after every step, not only when the
// Krylov space is full: three well-separated top eigenvalues (10, 8, 6 over a bulk in [0, 1])
// converge long before the default 20 vectors. The stop is at the first step where all three meet
// the tolerance: from the same start, lanczos_tridiagonal's T of one step more gives the residuals
// |T(c, c - 1)| |e_c^T y| of the leading c x c block for c = applications (all converged) and
// c = applications - 1 (one or more not).
TEST(Lanczos, StopsAtTheFirstStepWhereTheWantedPairsConverge) {
  const Index n = 20000, k = 3;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = double(i) / double(n);
  d[0] = 10.0, d[1] = 8.0, d[2] = 6.0;
  const ReflectedDiagonal a(d, 6);
  const VectorXd start = gaussian_start(n, 4);
  const double tol = 1e-10;
  const LanczosResult r = lanczos_extreme(a, n, start, {.k = k, .tolerance = tol});
  check(a.sorted(), r, k, LanczosWanted::largest, tol);
  EXPECT_EQ(r.restarts, 0);
  ASSERT_LT(r.applications, 20);
  const Index steps = Index(r.applications);
  const MatrixXd t = lanczos_tridiagonal(a, n, start, steps + 1, 0);
  auto converged = [&](Index c) {  // the top k Ritz pairs of T(0..c, 0..c) meet the tolerance
    const Eigen::SelfAdjointEigenSolver<MatrixXd> es(t.topLeftCorner(c, c));
    bool all = true;
    for (Index i = c - k; i < c; ++i)
      all = all && std::abs(t(c, c - 1) * es.eigenvectors()(c - 1, i)) <=
                       tol * std::abs(es.eigenvalues()[i]);
    return all;
  };
  EXPECT_TRUE(converged(steps));
  EXPECT_FALSE(converged(steps - 1));
}

// Three distinct eigenvalues: every Krylov space has dimension <= 3, so |f| vanishes after three
// steps and Lanczos must continue from a new random direction orthogonal to the basis; that is
// how it finds the multiplicity of the top eigenvalue (3 three times).
TEST(Lanczos, InvariantSubspaceContinuesAndFindsMultiplicity) {
  const Index n = 60;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = double(1 + i % 3);
  const ReflectedDiagonal a(d, 4);
  const LanczosResult r = lanczos_extreme(a, n, gaussian_start(n, 1), {.k = 3});
  check(a.sorted(), r, 3, LanczosWanted::largest, 1e-12);
}

// Krylov dimension m = n: the space is all of R^n after n steps, T is similar to A, and every
// Ritz value is exact without a restart.
TEST(Lanczos, FullSpaceIsExact) {
  const Index n = 12;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = double(i) - 5.5;
  const ReflectedDiagonal a(d, 8);
  const LanczosResult r =
      lanczos_extreme(a, n, gaussian_start(n, 2), {.k = 5, .wanted = LanczosWanted::both_ends});
  check(a.sorted(), r, 5, LanczosWanted::both_ends, 1e-12);
  EXPECT_EQ(r.applications, n);
  EXPECT_EQ(r.restarts, 0);
}

// Failure modes: impossible options and start vectors throw; an operator returning NaN gives
// converged = false and NaN values; a restart budget too small gives converged = false with the
// latest (finite) Ritz values.
TEST(Lanczos, FailureModes) {
  const Index n = 100;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = double(i) / double(n);
  const ReflectedDiagonal a(d, 1);
  const VectorXd start = gaussian_start(n, 1);
  EXPECT_THROW(lanczos_extreme(a, n, start, {.k = 0}), std::invalid_argument);
  EXPECT_THROW(lanczos_extreme(a, n, start, {.k = 10, .ncv = 10}), std::invalid_argument);
  EXPECT_THROW(lanczos_extreme(a, n, start, {.k = 10, .ncv = 101}), std::invalid_argument);
  EXPECT_THROW(lanczos_extreme(a, n, VectorXd::Zero(n), {}), std::invalid_argument);
  EXPECT_THROW(lanczos_extreme(a, n, start.head(n - 1), {}), std::invalid_argument);
  VectorXd bad = start;
  bad[3] = NAN;
  EXPECT_THROW(lanczos_extreme(a, n, bad, {}), std::invalid_argument);
  EXPECT_THROW(lanczos_extreme(a, n, start, {.tolerance = 0.0}), std::invalid_argument);

  const SymmetricMap nan_op = [&](const double* v, double* y) {
    a(v, y);
    y[0] = NAN;
  };
  const LanczosResult r = lanczos_extreme(nan_op, n, start, {.k = 3});
  EXPECT_FALSE(r.converged);
  EXPECT_TRUE(r.values.array().isNaN().all());

  const LanczosResult short_run =
      lanczos_extreme(a, n, start, {.k = 3, .tolerance = 1e-14, .max_restarts = 0});
  EXPECT_FALSE(short_run.converged);
  EXPECT_EQ(short_run.applications, 20);  // one Krylov space of ncv = 20, no restart
  EXPECT_TRUE(short_run.values.allFinite());
}

// Gauss quadrature: m Lanczos steps integrate every polynomial of degree <= 2m - 1 exactly
// against the spectral measure seen from v, so sum_i w_i theta_i^k = v^T A^k v / |v|^2 for
// k <= 2m - 1, where for A = H D H the right side is sum_j (H v)_j^2 d_j^k / |v|^2 exactly.
// Spectrum in [-1, 1]: each moment is at most 1, and the rounding of T is ~ m eps (the constant
// 100 covers the powers up to 15 of values within 1 + m eps).
TEST(Lanczos, TridiagonalGivesGaussQuadrature) {
  const Index n = 500, m = 8;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = std::cos(double(i));
  const ReflectedDiagonal a(d, 6);
  const VectorXd v = gaussian_start(n, 4);
  const MatrixXd t = lanczos_tridiagonal(a, n, v, m, 1);
  ASSERT_EQ(t.rows(), m);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < m; ++j)
      if (std::abs(i - j) > 1) {
        EXPECT_EQ(t(i, j), 0.0);  // tridiagonal
      }
  const Eigen::SelfAdjointEigenSolver<MatrixXd> es(t);
  const VectorXd w = es.eigenvectors().row(0).transpose().array().square();
  const VectorXd hv = v - 2.0 * a.u.dot(v) * a.u;
  for (int k = 0; k <= 2 * m - 1; ++k) {
    const double exact = (hv.array().square() * d.array().pow(k)).sum() / v.squaredNorm();
    const double gauss = (w.array() * es.eigenvalues().array().pow(k)).sum();
    EXPECT_NEAR(gauss, exact, 100.0 * double(m) * k_eps) << "moment " << k;
  }
}

// An invariant Krylov space (three distinct eigenvalues): after three steps T continues from a
// random orthogonal direction with coupling exactly 0, so the start vector's weights sit on the
// first block's nodes {1, 2, 3} and the later nodes carry weight 0.
TEST(Lanczos, TridiagonalDecouplesAtAnInvariantSpace) {
  const Index n = 60, m = 6;
  VectorXd d(n);
  for (Index i = 0; i < n; ++i) d[i] = double(1 + i % 3);
  const ReflectedDiagonal a(d, 4);
  const MatrixXd t = lanczos_tridiagonal(a, n, gaussian_start(n, 2), m, 3);
  EXPECT_EQ(t(3, 2), 0.0);
  EXPECT_EQ(t(2, 3), 0.0);
  const Eigen::SelfAdjointEigenSolver<MatrixXd> first(t.topLeftCorner(3, 3));
  for (Index i = 0; i < 3; ++i) EXPECT_NEAR(first.eigenvalues()[i], double(i + 1), 100 * k_eps);
  EXPECT_THROW(lanczos_tridiagonal(a, n, gaussian_start(n, 2), n + 1, 3), std::invalid_argument);
}

// A = G G^T with G of rank 30 in R^100: a null space of dimension 70 and a Krylov space (31
// dimensions) larger than the m = 20 Lanczos keeps, so it never becomes invariant. The smallest
// Ritz values go to 0, where a relative tolerance can never be met (|theta| ~ eps |A|); they
// converge once the residual reaches the rounding level 10 sqrt(m) eps |A|.
TEST(Lanczos, NullSpaceConvergesAtRoundingLevel) {
  const Index n = 100, r = 30;
  Rng rng(3);
  MatrixXd g(n, r);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = rng.normal();
  const MatrixXd a = g * g.transpose();
  const double norm = Eigen::SelfAdjointEigenSolver<MatrixXd>(a).eigenvalues().maxCoeff();
  const SymmetricMap apply = [&](const double* v, double* y) {
    Eigen::Map<VectorXd>(y, n).noalias() = a * Eigen::Map<const VectorXd>(v, n);
  };
  const LanczosResult s =
      lanczos_extreme(apply, n, gaussian_start(n, 5), {.k = 2, .wanted = LanczosWanted::smallest});
  ASSERT_TRUE(s.converged);
  // The Ritz values are within their residual (<= the rounding level, with |A| estimated by at
  // most 3 |A|) of eigenvalues of A, here of 0 (the smallest nonzero one is far above).
  const double level = 10.0 * std::sqrt(20.0) * k_eps * 3.0 * norm;
  EXPECT_LE(s.residuals.maxCoeff(), level);
  EXPECT_LE(s.values.cwiseAbs().maxCoeff(), level);
}

}  // namespace
}  // namespace locus::linalg
