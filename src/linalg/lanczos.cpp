#include "linalg/lanczos.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "linalg/eigen.hpp"
#include "linalg/random.hpp"
#include "locus/io/memory.hpp"

namespace locus::linalg {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr double k_eps = std::numeric_limits<double>::epsilon();

// Rows per block of the basis products: a block of V (8192 rows, up to ~40 columns) stays in L2
// between the product and the update that follows it, and a 670k-parameter basis gives 82 blocks
// for the threads to share.
constexpr Index k_block_rows = 8192;

// The number of row blocks of 0..n: it depends on n only, never on the number of threads.
Index row_blocks(Index n) { return (n + k_block_rows - 1) / k_block_rows; }

// f(b, r0, r) for the row blocks [r0, r0 + r) of 0..n, b = 0, 1, ... in parallel (inline for a
// single block).
template <class F>
void for_row_blocks(Index n, F&& f) {
  detail::parallel_for(row_blocks(n), true, [&](Index b) {
    const Index r0 = b * k_block_rows;
    f(b, r0, std::min(k_block_rows, n - r0));
  });
}

// The Lanczos state: basis V (n x m), tridiagonal-plus-arrow T (m x m), work vector w, residual
// direction f (unit, or 0 when the space became invariant) with norm beta, and the per-block
// partial sums, added in block order.
struct State {
  const SymmetricMap& apply;
  Index n, m;
  MatrixXd v, t;
  VectorXd w, f;
  double beta = 0.0;
  double a_norm = 0.0;         // a running lower estimate of |A|_2 from the rows of T
  bool invariant_met = false;  // a Krylov space became invariant (continued from a new direction)
  long long applications = 0;
  MatrixXd partial;   // cols x blocks
  VectorXd partial1;  // blocks
  VectorXd partial2;  // blocks

  State(const SymmetricMap& a, Index n_, Index m_)
      : apply(a),
        n(n_),
        m(m_),
        v(n_, m_),
        t(MatrixXd::Zero(m_, m_)),
        w(n_),
        f(n_),
        partial1(row_blocks(n_)),
        partial2(partial1.size()) {
    // V is streamed twice per step by the Gram-Schmidt passes (io::advise_huge_pages).
    io::advise_huge_pages(v.data(), sizeof(double) * std::size_t(v.size()));
  }

  static double ordered_sum(const VectorXd& p) {
    double s = 0.0;
    for (Index b = 0; b < p.size(); ++b) s += p[b];
    return s;
  }

  // The recurrence part of a step: w -= V(:, 0..p) s (arrow after a restart, p = s.size()) or
  // w -= coupling v_{j-1}; returns alpha = v_j . w.
  double recurrence(Index j, const VectorXd& arrow, double coupling) {
    for_row_blocks(n, [&](Index b, Index r0, Index r) {
      auto wb = w.segment(r0, r);
      if (arrow.size() > 0)
        wb.noalias() -= v.block(r0, 0, r, arrow.size()) * arrow;
      else if (j > 0)
        wb -= coupling * v.col(j - 1).segment(r0, r);
      partial1[b] = v.col(j).segment(r0, r).dot(wb);
    });
    return ordered_sum(partial1);
  }

  // One classical Gram-Schmidt pass against V(:, 0..cols), after w -= alpha v_j (j < cols):
  // h = V^T w, w -= V h. Returns |w|^2 before (first) and after (second) the projection; h.
  std::pair<double, double> gram_schmidt(Index cols, Index j, double alpha, VectorXd& h) {
    partial.resize(cols, partial1.size());
    for_row_blocks(n, [&](Index b, Index r0, Index r) {
      auto wb = w.segment(r0, r);
      if (alpha != 0.0) wb -= alpha * v.col(j).segment(r0, r);
      partial1[b] = wb.squaredNorm();
      partial.col(b).noalias() = v.block(r0, 0, r, cols).transpose() * wb;
    });
    h = VectorXd::Zero(cols);
    for (Index b = 0; b < partial.cols(); ++b) h += partial.col(b);
    for_row_blocks(n, [&](Index b, Index r0, Index r) {
      auto wb = w.segment(r0, r);
      wb.noalias() -= v.block(r0, 0, r, cols) * h;
      partial2[b] = wb.squaredNorm();
    });
    return {ordered_sum(partial1), ordered_sum(partial2)};
  }

  // w orthogonal to V(:, 0..cols) by CGS passes until a pass keeps |w| above 1/sqrt(2) of what
  // it was (at most 3 passes); the first pass first removes alpha v_j. Returns |w|^2 and adds
  // the components found along v_j to alpha (j < cols).
  double orthogonalize(Index cols, Index j, double& alpha) {
    VectorXd h;
    auto [before, after] = gram_schmidt(cols, j, alpha, h);
    alpha += h[j];
    for (int pass = 1; pass < 3 && after < 0.5 * before; ++pass) {
      std::tie(before, after) = gram_schmidt(cols, j, 0.0, h);
      alpha += h[j];
    }
    return after;
  }

  // dst = w / norm, or a new random unit direction orthogonal to V(:, 0..cols) when the Krylov
  // space has become invariant (|w| at rounding level); returns the coupling (0 in that case).
  double next_direction(double norm2, Index cols, Rng& rng, double* dst) {
    const double norm = std::sqrt(norm2);
    const bool invariant = !(norm > k_eps * std::sqrt(double(n)) * a_norm) || cols == n;
    if (invariant && cols < n) {
      invariant_met = true;
      w = gaussian_vector(n, rng);
      double unused = 0.0;
      orthogonalize(cols, 0, unused);
      const double g = std::sqrt(orthogonalize(cols, 0, unused));
      Eigen::Map<VectorXd>(dst, n) = w / g;
      return 0.0;
    }
    if (invariant) {
      Eigen::Map<VectorXd>(dst, n).setZero();
      return 0.0;
    }
    const double inv = 1.0 / norm;
    for_row_blocks(n, [&](Index, Index r0, Index r) {
      Eigen::Map<VectorXd>(dst + r0, r) = inv * w.segment(r0, r);
    });
    return norm;
  }

  // Steps j = from..m-1: extends A V(:, 0..from+1) = V T + ... to the full m columns; arrow is
  // the coupling of v_from to the kept Ritz vectors after a restart (empty otherwise). After a
  // step that leaves cols = j + 1 < m columns, stop(cols) may end the extension there (then
  // A V(:, 0..cols) = V T(0..cols, 0..cols) + t(cols, cols - 1) v_cols e_cols^T). Returns the
  // number of columns.
  template <class Stop>
  Index extend(Index from, const VectorXd& arrow, Rng& rng, Stop&& stop) {
    for (Index j = from; j < m; ++j) {
      apply(v.col(j).data(), w.data());
      ++applications;
      const bool restart_step = j == from && arrow.size() > 0;
      const double coupling = j > 0 ? t(j, j - 1) : 0.0;
      double alpha = recurrence(j, restart_step ? arrow : VectorXd(), coupling);
      const double norm2 = orthogonalize(j + 1, j, alpha);
      t(j, j) = alpha;
      const double previous = restart_step ? arrow.norm() : std::abs(coupling);
      a_norm = std::max(a_norm, std::abs(alpha) + previous + std::sqrt(norm2));
      if (j + 1 < m) {
        const double b = next_direction(norm2, j + 1, rng, v.col(j + 1).data());
        t(j + 1, j) = t(j, j + 1) = b;
        if (stop(j + 1)) return j + 1;
      } else {
        beta = next_direction(norm2, j + 1, rng, f.data());
      }
    }
    return m;
  }

  // The eigenpairs of T(0..cols, 0..cols), and how many of the nev most wanted (`order`, over
  // cols Ritz values) meet the tolerance, with residuals |f| |e_cols^T y|, |f| = f_norm.
  struct Ritz {
    SymmetricEigen es;
    double f_norm = 0.0;
    Index converged = 0;
    double residual(Index i) const {
      return f_norm * std::abs(es.vectors(es.vectors.rows() - 1, i));
    }
  };
  Ritz ritz(Index cols, double f_norm, const std::vector<Index>& order, Index nev,
            double tolerance) const {
    Ritz r{small_symmetric_eigen(t.topLeftCorner(cols, cols)), f_norm, 0};
    if (!r.es.converged) return r;
    // The rounding level of the Lanczos relation, ~ sqrt(m) eps |A| (|A| estimated from T): a
    // residual below it cannot shrink further, whatever the tolerance asks of an eigenvalue
    // near 0.
    const double rounding = 10.0 * std::sqrt(double(m)) * k_eps * a_norm;
    for (Index q = 0; q < nev; ++q) {
      const Index i = order[size_t(q)];
      if (r.residual(i) <= std::max(tolerance * std::abs(r.es.values[i]), rounding)) ++r.converged;
    }
    return r;
  }
};

// The Ritz indices 0..m-1 (ascending values) from most to least wanted.
std::vector<Index> wanted_order(Index m, LanczosWanted wanted) {
  std::vector<Index> order;
  for (Index i = 0; i < m; ++i) {
    switch (wanted) {
      case LanczosWanted::largest:
        order.push_back(m - 1 - i);
        break;
      case LanczosWanted::smallest:
        order.push_back(i);
        break;
      case LanczosWanted::both_ends:
        order.push_back(i % 2 == 0 ? m - 1 - i / 2 : i / 2);
        break;
    }
  }
  return order;
}

void check_start(const VectorXd& start, Index n) {
  if (start.size() != n || !start.allFinite() || start.norm() == 0.0)
    throw std::invalid_argument("lanczos: the start vector must be finite, nonzero, of length " +
                                std::to_string(n));
}

}  // namespace

LanczosResult lanczos_extreme(const SymmetricMap& apply, Index n, const VectorXd& start,
                              const LanczosOptions& o) {
  const Index nev = o.wanted == LanczosWanted::both_ends ? 2 * o.k : o.k;
  const Index m = o.ncv > 0 ? o.ncv : std::min<Index>(n, std::max<Index>(2 * nev + 1, 20));
  if (o.k < 1 || nev >= m || m > n)
    throw std::invalid_argument("lanczos: need 1 <= eigenvalues wanted (" + std::to_string(nev) +
                                ") < Krylov dimension (" + std::to_string(m) +
                                ") <= operator size (" + std::to_string(n) + ")");
  check_start(start, n);
  if (!(o.tolerance > 0.0) || o.max_restarts < 0)
    throw std::invalid_argument("lanczos: tolerance must be > 0 and max_restarts >= 0");

  State s(apply, n, m);
  Rng rng(o.seed);
  s.v.col(0) = start / start.norm();
  const std::vector<Index> order = wanted_order(m, o.wanted);

  // Convergence is tested after every step once the basis holds more than nev vectors (every
  // ceil(m / 32)-th step for large m), not only when it is full: the run ends at the first step
  // where the nev wanted Ritz pairs meet the tolerance. Each test is an eigensolve of T, about
  // 25 us at m = 41, against a step's two passes over the n x m basis: it pays only where the
  // operator is large, n >= 25 m^2 (there under 5% of those passes; on smaller operators a
  // step costs tens of microseconds, and per-step tests took a 769-parameter net's top and
  // bottom 10 from 7.8 to 12.6 ms). Not after the Krylov space has once become invariant: its
  // Ritz pairs then have zero residuals, and only further steps from the new direction find an
  // eigenvalue's other copies.
  const bool test_each_step = double(n) >= 25.0 * double(m) * double(m);
  const Index stride = (m + 31) / 32;
  State::Ritz early;
  auto stop = [&](Index cols) {
    if (!test_each_step || cols <= nev || (m - cols) % stride != 0 || s.invariant_met) return false;
    State::Ritz r =
        s.ritz(cols, std::abs(s.t(cols, cols - 1)), wanted_order(cols, o.wanted), nev, o.tolerance);
    if (r.es.converged && r.converged < nev) return false;
    early = std::move(r);
    return true;
  };

  LanczosResult result;
  Index from = 0;
  VectorXd arrow;
  for (;;) {
    const Index cols = s.extend(from, arrow, rng, stop);
    const State::Ritz ritz =
        cols < m ? std::move(early) : s.ritz(m, s.beta, order, nev, o.tolerance);
    if (!ritz.es.converged) {  // NaN or inf from the operator
      result.values = VectorXd::Constant(nev, NAN);
      result.residuals = VectorXd::Constant(nev, NAN);
      result.converged = false;
      break;
    }
    if (ritz.converged == nev || result.restarts == o.max_restarts) {
      const std::vector<Index> at = wanted_order(cols, o.wanted);
      std::vector<Index> wanted(at.begin(), at.begin() + nev);
      std::sort(wanted.begin(), wanted.end());  // ascending values
      result.values.resize(nev);
      result.residuals.resize(nev);
      for (Index r = 0; r < nev; ++r) {
        result.values[r] = ritz.es.values[wanted[size_t(r)]];
        result.residuals[r] = ritz.residual(wanted[size_t(r)]);
      }
      result.converged = ritz.converged == nev;
      break;
    }
    const MatrixXd& y = ritz.es.vectors;
    const Index converged = ritz.converged;
    // Keep p Ritz vectors: nev plus up to half the rest, as many more as have converged (ARPACK's
    // dsaup2 rule, which keeps converged pairs from being lost again), never all m.
    Index p = nev + std::min(converged, (m - nev) / 2);
    if (p == 1) p = m >= 6 ? m / 2 : std::min<Index>(2, m - 1);
    p = std::min(p, m - 1);
    MatrixXd yk(m, p);
    arrow.resize(p);
    for (Index r = 0; r < p; ++r) {
      const Index i = order[size_t(r)];
      yk.col(r) = y.col(i);
      arrow[r] = s.beta * y(m - 1, i);
    }
    // V(:, 0..p) = V Y_kept, block by block in place (each block's product into a buffer of
    // the thread's own).
    for_row_blocks(n, [&](Index, Index r0, Index r) {
      const MatrixXd kept = s.v.block(r0, 0, r, m) * yk;  // read before the block is overwritten
      s.v.block(r0, 0, r, p) = kept;
    });
    s.v.col(p) = s.f;
    s.t.setZero();
    for (Index r = 0; r < p; ++r) s.t(r, r) = ritz.es.values[order[size_t(r)]];
    s.t.block(p, 0, 1, p) = arrow.transpose();
    s.t.block(0, p, p, 1) = arrow;
    from = p;
    ++result.restarts;
  }
  result.applications = s.applications;
  return result;
}

MatrixXd lanczos_tridiagonal(const SymmetricMap& apply, Index n, const VectorXd& start, Index m,
                             std::uint64_t seed) {
  if (m < 1 || m > n)
    throw std::invalid_argument("lanczos: need 1 <= steps (" + std::to_string(m) +
                                ") <= operator size (" + std::to_string(n) + ")");
  check_start(start, n);
  State s(apply, n, m);
  Rng rng(seed);
  s.v.col(0) = start / start.norm();
  s.extend(0, VectorXd(), rng, [](Index) { return false; });
  return s.t;
}

}  // namespace locus::linalg
