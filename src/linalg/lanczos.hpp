#pragma once
// Thick-restart Lanczos for the extreme eigenvalues of a symmetric operator (private to locus).
//
// With an orthonormal basis V = [v_0 .. v_{m-1}] of a Krylov space, A V = V T + f e_m^T with T
// symmetric (tridiagonal, plus one arrow row and column after a restart) and f orthogonal to V.
// The eigenpairs (theta, y) of T give Ritz pairs (theta, V y) with |A V y - theta V y| =
// |f| |e_m^T y| exactly in exact arithmetic. A restart keeps the p most wanted Ritz vectors and
// continues from f (Wu & Simon 2000, "Thick-restart Lanczos method for large symmetric eigenvalue
// problems"; with exact shifts the same Krylov spaces as ARPACK's implicit restart). On large
// operators (n >= 25 m^2) convergence is tested after every step, where ARPACK tests it only when
// the space is full, so the run ends at the first step where the wanted pairs meet the tolerance
// (the top 10 of the 670k-parameter Hessian in bench/README: 31 applications, ARPACK 32).
//
// Each step: w = A v_j, the three-term recurrence w -= beta_{j-1} v_{j-1} + alpha_j v_j (or the
// arrow after a restart), then one pass of classical Gram-Schmidt against all of V, repeated only
// when it shrank |w| by more than 1/sqrt(2) (Daniel, Gragg, Kaufman & Stewart 1976: "twice is
// enough"). After the recurrence w is already orthogonal to V up to rounding, so one pass
// usually suffices: two reads of V per step. The basis products run in parallel over fixed
// blocks of rows, each block's partial sums added in block order, so results are the same bits
// for any number of threads.

#include <Eigen/Core>
#include <cstdint>
#include <functional>

namespace locus::linalg {

enum class LanczosWanted {
  largest,    // the k largest (algebraic)
  smallest,   // the k smallest (algebraic)
  both_ends,  // the k largest and the k smallest (2k < n)
};

struct LanczosOptions {
  Eigen::Index k = 10;  // eigenvalues wanted per end
  LanczosWanted wanted = LanczosWanted::largest;
  // Krylov space dimension m; 0 means min(n, max(2 nev + 1, 20)) with nev the number wanted
  // (ARPACK's rule of thumb). Must satisfy nev < m <= n.
  Eigen::Index ncv = 0;
  // A Ritz pair is converged when |f| |e_m^T y| <= max(tolerance |theta|, 10 sqrt(m) eps |A|),
  // the second term the rounding level of the Lanczos relation (|A| estimated from T): eigenvalues
  // at or near 0 (a Hessian's null space) converge once their residual is at rounding level.
  double tolerance = 1e-12;
  int max_restarts = 1000;
  std::uint64_t seed = 0;  // only for a new direction when the Krylov space becomes invariant
};

struct LanczosResult {
  Eigen::VectorXd values;     // the wanted Ritz values, ascending
  Eigen::VectorXd residuals;  // |f| |e_m^T y| of each, the residual |A x - theta x| to rounding
  bool converged = false;     // every wanted pair met the tolerance within max_restarts
  long long applications = 0;
  int restarts = 0;
};

// y = A v for v, y of length n (y never aliases v).
using SymmetricMap = std::function<void(const double* v, double* y)>;

// The wanted extreme eigenvalues of the symmetric n x n operator `apply`, from the Krylov space
// of `start` (any nonzero vector of length n). Cost per restart: up to m - p applications of A
// plus about 4 n m^2 flops of basis products (memory-bound: two reads of the n x m basis per
// step) and, for n >= 25 m^2, one eigensolve of T, O(m^3), per step (every ceil(m / 32)-th
// step for m > 32);
// memory 8 n (m + 3) bytes. Does not converge (converged = false, the latest Ritz values returned)
// when max_restarts restarts are not enough. Throws std::invalid_argument when the options are
// impossible for n (nev >= m, m > n, start of the wrong length or zero).
LanczosResult lanczos_extreme(const SymmetricMap& apply, Eigen::Index n,
                              const Eigen::VectorXd& start, const LanczosOptions& options);

// m steps of the same Lanczos process from `start`, without restart: the m x m symmetric
// tridiagonal T of A V = V T + f e_m^T (V orthonormal, V e_1 = start / |start|). Its eigenpairs
// (theta_i, y_i) are the Gauss quadrature nodes and weights y_i(1)^2 of the spectral measure of A
// seen from `start` (stochastic Lanczos quadrature). When the Krylov space becomes invariant
// (|f| at rounding level) the process continues from a random unit vector orthogonal to V (from
// `seed`) with coupling 0: T is then block diagonal, and the later blocks' nodes are Ritz values
// of A with weight 0. Cost m applications plus 4 n m^2 flops; memory 8 n (m + 3) bytes. Throws
// std::invalid_argument unless 1 <= m <= n and start is finite, nonzero, of length n.
Eigen::MatrixXd lanczos_tridiagonal(const SymmetricMap& apply, Eigen::Index n,
                                    const Eigen::VectorXd& start, Eigen::Index m,
                                    std::uint64_t seed);

}  // namespace locus::linalg
