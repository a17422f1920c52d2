#include "gemm.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <limits>
#include <utility>

#include "blas_threads.hpp"
#include "simd.hpp"

// Fortran BLAS (LP64), with gfortran's hidden string-length arguments.
extern "C" void dgemm_(const char* op_a, const char* op_b, const int* m, const int* n, const int* k,
                       const double* alpha, const double* a, const int* lda, const double* b,
                       const int* ldb, const double* beta, double* c, const int* ldc, std::size_t,
                       std::size_t);

// The kernel's blocks of c are three vectors by one vector's width of columns: 24 x 8 with
// AVX-512 (24 of 32 registers), 12 x 4 with AVX2 and FMA (12 of 16). On AVX2 (x86-64-v3 on the
// same Zen 5 machine) the 12 x 4 kernel ran at the same 58 GFLOP/s per core as Eigen's 12 x 4
// kernel on the large net's layers, both at the FMA units' peak, so it only takes shallow
// products there (k_kernel_max_depth). Deeper ones, and without AVX2 all deeper than 64, go to
// BLAS's dgemm (blas_gemm); the rest without AVX2 to Eigen's product.

namespace locus::detail {

using Eigen::Index;
using Eigen::MatrixXd;

namespace {

// Eigen's product: without AVX2, for products deeper than the kernel takes, and for products
// too narrow for it.
void eigen_gemm(const Eigen::Ref<const MatrixXd>& a, Op op_a, const Eigen::Ref<const MatrixXd>& b,
                Op op_b, Eigen::Ref<MatrixXd> c, bool accumulate) {
  const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  auto run = [&](const auto& x, const auto& y) {
    if (accumulate)
      c.noalias() += x * y;
    else
      c.noalias() = x * y;
  };
  if (ta && tb)
    run(a.transpose(), b.transpose());
  else if (ta)
    run(a.transpose(), b);
  else if (tb)
    run(a, b.transpose());
  else
    run(a, b);
}

// The deep products of a build without AVX-512 (depth above k_shallow_depth, at least 4 x 4):
// BLAS's dgemm, run on the calling thread (a SerialBlas scope: a chunk's product stays on the
// thread that owns the chunk, so its bits do not depend on the thread count). With AVX2 on
// 2 Zen 5 cores (OpenBLAS's Haswell kernels, x86-64-v3 build, alternating with Eigen's product
// in one process): the large net's HVP 63.4 -> 59.5 ms, its cached HVP 62.7 -> 59.0 and gradient
// 43.2 -> 41.4 on two threads, 1.0-1.07x on one; without AVX2, OpenBLAS still chooses the CPU's
// kernels at run time where Eigen's are SSE2. False (nothing done) for a dimension past BLAS's
// 32-bit integers.
#if !defined(__AVX512F__)
constexpr Index k_shallow_depth = 64;
bool blas_gemm(const Eigen::Ref<const MatrixXd>& a, bool ta, const Eigen::Ref<const MatrixXd>& b,
               bool tb, Eigen::Ref<MatrixXd> c, bool accumulate) {
  const Index k = ta ? a.rows() : a.cols();
  constexpr Index most = std::numeric_limits<int>::max();
  if (k <= k_shallow_depth || c.rows() < 4 || c.cols() < 4) return false;
  for (Index x : {c.rows(), c.cols(), k, a.outerStride(), b.outerStride(), c.outerStride()})
    if (x > most) return false;
  const int m = int(c.rows()), n = int(c.cols()), depth = int(k);
  const int lda = int(a.outerStride()), ldb = int(b.outerStride()), ldc = int(c.outerStride());
  const double one = 1.0, beta = accumulate ? 1.0 : 0.0;
  const SerialBlas serial;
  dgemm_(ta ? "T" : "N", tb ? "T" : "N", &m, &n, &depth, &one, a.data(), &lda, b.data(), &ldb,
         &beta, c.data(), &ldc, 1, 1);
  return true;
}
#endif

#if LOCUS_SIMD

constexpr Index k_w = Simd::w;
// The deepest product the kernel takes. With AVX2, Eigen's blocking ran the large net's deep
// products faster than this kernel (its HVP 182 vs 196 ms on one Zen 5 core), and BLAS as fast
// on one thread and faster on two (blas_gemm), while for shallow ones (k <= 64: a small net's
// layers and chunk sums) their per-call setup, packing op(b) and clearing c, costs more than the
// kernel saves there (a [10,64,1] HVP on 256 points 83.0 -> 71.8 us, one core, against Eigen).
#if defined(__AVX512F__)
constexpr Index k_kernel_max_depth = std::numeric_limits<Index>::max();
#else
constexpr Index k_kernel_max_depth = k_shallow_depth;
#endif

// The first `count` lanes at p (the rest zero), and their store: whole vectors without a mask.
Simd::V load_first(Index count, const double* p) {
  return count >= k_w ? Simd::load(p) : Simd::load(Simd::first(count), p);
}
void store_first(Index count, double* p, Simd::V v) {
  if (count >= k_w)
    Simd::store(p, v);
  else
    Simd::store(Simd::first(count), p, v);
}
constexpr Index k_mr = 3 * k_w;  // rows of c per micro-tile: three vectors
constexpr Index k_nr = k_w;      // columns of c per micro-tile
constexpr Index k_kc = 256;      // depth of one slice (a 256 x 8 panel of op(b): 16 KB, L1)
constexpr Index k_mc = 96;       // rows of op(a) packed at once (96 x 256: 192 KB, L2)
static_assert(k_mc % k_mr == 0);

// A panel height rounded up to whole vectors.
Index padded(Index rows) { return (rows + k_w - 1) / k_w * k_w; }

// Packing buffer of the calling thread, grown on demand and kept.
double* buffer(Eigen::VectorXd& v, Index size) {
  if (v.size() < size) v.resize(size);
  return v.data();
}

// The transpose of a w x w block: row i of the block is src + i ld, its first `depth` doubles
// (rows i >= rows read as zeros); dst + p stride receives column p for p < depth. w masked loads,
// a few shuffles and `depth` stores: a transposed operand packed at vector speed.
void transpose_block(const double* src, Index ld, Index rows, Index depth, double* dst,
                     Index stride) {
  Simd::V r[k_w];
  for (Index i = 0; i < k_w; ++i) r[i] = i < rows ? load_first(depth, src + i * ld) : Simd::zero();
  Simd::transpose(r);
  for (Index p = 0; p < depth; ++p) Simd::store(dst + p * stride, r[p]);
}

// op(a)'s rows [i0, i0 + mc) and depths [p0, p0 + kc) as panels of k_mr rows: panel r holds rows
// i0 + r k_mr + [0, h) with h = min(k_mr, mc - r k_mr) padded to whole vectors by zeros, laid out
// depth by depth (padded(h) doubles per depth).
void pack_a(const double* a, Index lda, bool trans, Index i0, Index mc, Index p0, Index kc,
            double* out) {
  for (Index r = 0; r < mc; r += k_mr) {
    const Index h = std::min(k_mr, mc - r), hp = padded(h);
    if (!trans) {
      for (Index p = 0; p < kc; ++p) {
        const double* src = a + (i0 + r) + (p0 + p) * lda;
        for (Index v = 0; v < hp; v += k_w)
          Simd::store(out + p * hp + v, load_first(h - v, src + v));
      }
    } else {
      // op(a)(i, p) = a(p, i): row i of the panel is contiguous in a.
      for (Index p = 0; p < kc; p += k_w)
        for (Index v = 0; v < hp; v += k_w)
          transpose_block(a + (p0 + p) + (i0 + r + v) * lda, lda, h - v, std::min(k_w, kc - p),
                          out + p * hp + v, hp);
    }
    out += kc * hp;
  }
}

// op(b)'s depths [p0, p0 + kc) and columns [j0, j0 + nc), nc < k_nr, as one panel of k_nr
// columns (zero-padded), laid out depth by depth: the last panel of a product whose columns are
// not a multiple of k_nr, which the kernel cannot read in place.
void pack_b(const double* b, Index ldb, bool trans, Index p0, Index kc, Index j0, Index nc,
            double* out) {
  if (!trans) {
    for (Index p = 0; p < kc; p += k_w)
      transpose_block(b + (p0 + p) + j0 * ldb, ldb, nc, std::min(k_w, kc - p), out + p * k_nr,
                      k_nr);
  } else {
    // op(b)(p, j) = b(j, p): the panel's row p is contiguous in b.
    for (Index p = 0; p < kc; ++p)
      Simd::store(out + p * k_nr, load_first(nc, b + j0 + (p0 + p) * ldb));
  }
}

// c[0:h, 0:w] (= or +=) the product of a packed panel of V vectors of rows (V k_w >= h) and a
// k_nr-column panel of op(b), kc deep, whose element (p, j) is pb[p ldp + j ldj]: op(b) in place
// (no transpose: ldp = 1, ldj = ldb; transposed: ldp = ldb, ldj = 1) or packed (k_nr, 1). Each
// element of c is one chain of multiply-adds in depth order, then one addition to c.
template <int V, bool Bias>
void micro_kernel(Index kc, const double* __restrict pa, const double* __restrict pb, Index ldp,
                  Index ldj, double* c, Index ldc, Index h, Index w, bool add, const double* bias) {
  Simd::V acc[V][k_nr];
  for (int v = 0; v < V; ++v)
    for (int j = 0; j < k_nr; ++j) acc[v][j] = Simd::zero();
  for (Index p = 0; p < kc; ++p) {
    Simd::V av[V];
    for (int v = 0; v < V; ++v) av[v] = Simd::load(pa + k_w * v);
    _mm_prefetch(reinterpret_cast<const char*>(pa + k_w * V * 8), _MM_HINT_T0);
    for (int j = 0; j < k_nr; ++j) {
      const Simd::V bj = Simd::broadcast(pb[j * ldj]);
      for (int v = 0; v < V; ++v) acc[v][j] = Simd::fma(av[v], bj, acc[v][j]);
    }
    pa += k_w * V;
    pb += ldp;
  }
  // Rows of c in each vector: whole vectors but the last.
  for (int j = 0; j < k_nr; ++j) {
    if (j >= w) break;
    double* cj = c + j * ldc;
    for (int v = 0; v < V; ++v) {
      const Index rows = h - k_w * v;
      Simd::V r = acc[v][j];
      if (add) r = Simd::add(load_first(rows, cj + k_w * v), r);
      if constexpr (Bias) r = Simd::add(r, Simd::broadcast(bias[j]));
      store_first(rows, cj + k_w * v, r);
    }
  }
}

// micro_kernel, adding the bias when it is not null.
template <int V>
void tile_kernel(Index kc, const double* pa, const double* pb, Index ldp, Index ldj, double* c,
                 Index ldc, Index h, Index w, bool add, const double* bias) {
  if (bias)
    micro_kernel<V, true>(kc, pa, pb, ldp, ldj, c, ldc, h, w, add, bias);
  else
    micro_kernel<V, false>(kc, pa, pb, ldp, ldj, c, ldc, h, w, add, nullptr);
}

// c = a^T b (or c += a^T b, then + 1 bias^T) for a (k x m) and b (k x n), both with contiguous
// columns, m small: element (i, j) is the dot product of the columns a[:, i] and b[:, j]. A tile
// of I <= k_w rows by J columns of c keeps I J vectors of partial sums along the depth (element p
// of the depth in lane p mod k_w), one multiply-add chain each in depth order; the tile then
// transposes each column's I vectors and adds the k_w rows in order, so lane i of column j holds
// ((s_0 + s_1) + s_2) + ... of its partial sums. For a layer's weight product X^T dZ with 10
// inputs the panel kernel pads the 10 rows of c to 12 and packs X^T; this reads both in place.
template <int I, int J>
void dot_tile(Index k, const double* a, Index lda, const double* b, Index ldb, double* c, Index ldc,
              bool add, const double* bias) {
  Simd::V acc[I][J];
  for (int i = 0; i < I; ++i)
    for (int j = 0; j < J; ++j) acc[i][j] = Simd::zero();
  const auto step = [&](Index p, Index count) {
    Simd::V bv[J];
    for (int j = 0; j < J; ++j) bv[j] = load_first(count, b + j * ldb + p);
    for (int i = 0; i < I; ++i) {
      const Simd::V ai = load_first(count, a + i * lda + p);
      for (int j = 0; j < J; ++j) acc[i][j] = Simd::fma(ai, bv[j], acc[i][j]);
    }
  };
  Index p = 0;
  for (; p + k_w <= k; p += k_w) step(p, k_w);
  if (p < k) step(p, k - p);
  for (int j = 0; j < J; ++j) {
    Simd::V r[k_w];
    for (int i = 0; i < k_w; ++i) r[i] = i < I ? acc[i][j] : Simd::zero();
    Simd::transpose(r);
    Simd::V s = r[0];
    for (int q = 1; q < k_w; ++q) s = Simd::add(s, r[q]);
    double* cj = c + j * ldc;
    if (add) s = Simd::add(load_first(I, cj), s);
    if (bias) s = Simd::add(s, Simd::broadcast(bias[j]));
    store_first(I, cj, s);
  }
}
// The most rows of c that dot_gemm takes (a^T b only): measured on Zen 5 for k = 64, n = 64, m =
// 2..32, one core: with AVX2 it beat the panel kernel up to m = 16 (m = 10: 1.68 vs 1.88 us; m =
// 2: 0.47 vs 1.6 us, where the panel kernel computes 4 rows; m = 16: 2.4 vs 2.8 us); with AVX-512
// up to m = 8 (m = 2..6: 3-4x; m = 10: 1.38 vs 1.33 us, its 8 x 8 transposes cost more).
#if defined(__AVX512F__)
constexpr Index k_dot_max_rows = 8;
#else
constexpr Index k_dot_max_rows = 16;
#endif
// dot_tile over all of c: row blocks of k_w (the last one shorter), each across the columns J at
// a time (I J of about 8 chains keeps the multiply-add units busy), leftover columns one by one.
template <int I>
void dot_rows(Index k, const double* a, Index lda, const double* b, Index ldb, double* c, Index ldc,
              Index n, bool add, const double* bias) {
  constexpr int J = I >= 3 ? 3 : 4;
  Index j = 0;
  for (; j + J <= n; j += J)
    dot_tile<I, J>(k, a, lda, b + j * ldb, ldb, c + j * ldc, ldc, add, bias ? bias + j : nullptr);
  for (; j < n; ++j)
    dot_tile<I, 1>(k, a, lda, b + j * ldb, ldb, c + j * ldc, ldc, add, bias ? bias + j : nullptr);
}
template <int... I>
void dot_gemm_rows(std::integer_sequence<int, I...>, int rows, Index k, const double* a, Index lda,
                   const double* b, Index ldb, double* c, Index ldc, Index n, bool add,
                   const double* bias) {
  using F = void (*)(Index, const double*, Index, const double*, Index, double*, Index, Index, bool,
                     const double*);
  static constexpr F by_rows[] = {dot_rows<I + 1>...};
  by_rows[rows - 1](k, a, lda, b, ldb, c, ldc, n, add, bias);
}
void dot_gemm(const Eigen::Ref<const MatrixXd>& a, const Eigen::Ref<const MatrixXd>& b,
              Eigen::Ref<MatrixXd> c, bool accumulate, const double* bias) {
  const Index m = c.rows(), n = c.cols(), k = a.rows();
  for (Index i0 = 0; i0 < m; i0 += k_w)
    dot_gemm_rows(std::make_integer_sequence<int, int(k_w)>(), int(std::min(k_w, m - i0)), k,
                  a.data() + i0 * a.outerStride(), a.outerStride(), b.data(), b.outerStride(),
                  c.data() + i0, c.outerStride(), n, accumulate, bias);
}

void kernel_gemm(const Eigen::Ref<const MatrixXd>& a, bool ta, const Eigen::Ref<const MatrixXd>& b,
                 bool tb, Eigen::Ref<MatrixXd> c, bool accumulate, const double* bias) {
  const Index m = c.rows(), n = c.cols(), k = ta ? a.rows() : a.cols();
  const Index ldb = b.outerStride(), ldc = c.outerStride();
  const Index full = n / k_nr * k_nr;  // columns in full panels
  thread_local Eigen::VectorXd a_buffer, b_buffer;
  double* pa = buffer(a_buffer, k_mc * k_kc);
  double* pb = buffer(b_buffer, k_kc * k_nr);
  for (Index p0 = 0; p0 < k; p0 += k_kc) {
    const Index kc = std::min(k_kc, k - p0);
    // The first slice writes c (unless accumulating), later ones add to it.
    const bool add = accumulate || p0 > 0;
    // The bias goes in with the last slice, after its addition to c.
    const double* slice_bias = p0 + kc == k ? bias : nullptr;
    // Full panels of op(b) are read in place (op(b)(p, j) at b + p ldp + j ldj); a narrower last
    // panel is packed with zero columns.
    if (full < n) pack_b(b.data(), ldb, tb, p0, kc, full, n - full, pb);
    for (Index i0 = 0; i0 < m; i0 += k_mc) {
      const Index mc = std::min(k_mc, m - i0);
      pack_a(a.data(), a.outerStride(), ta, i0, mc, p0, kc, pa);
      for (Index q = 0; q < n; q += k_nr) {
        const Index w = std::min(k_nr, n - q);
        const double* panel_b = tb ? b.data() + q + p0 * ldb : b.data() + p0 + q * ldb;
        Index ldp = tb ? ldb : 1, ldj = tb ? 1 : ldb;
        if (w < k_nr) panel_b = pb, ldp = k_nr, ldj = 1;
        const double* panel_a = pa;
        for (Index r = 0; r < mc; r += k_mr) {
          const Index h = std::min(k_mr, mc - r);
          double* tile = c.data() + (i0 + r) + q * ldc;
          const double* tile_bias = slice_bias ? slice_bias + q : nullptr;
          if (h > 2 * k_w)
            tile_kernel<3>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add, tile_bias);
          else if (h > k_w)
            tile_kernel<2>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add, tile_bias);
          else
            tile_kernel<1>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add, tile_bias);
          panel_a += kc * padded(h);
        }
      }
    }
  }
}

#endif

}  // namespace

void gemm(const Eigen::Ref<const MatrixXd>& a, Op op_a, const Eigen::Ref<const MatrixXd>& b,
          Op op_b, Eigen::Ref<MatrixXd> c, bool accumulate, const double* bias) {
  // (tb is unused without the kernel in a build without assertions.)
  [[maybe_unused]] const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  const Index k = ta ? a.rows() : a.cols();
  assert(c.rows() == (ta ? a.cols() : a.rows()));
  assert(c.cols() == (tb ? b.rows() : b.cols()));
  assert(k == (tb ? b.cols() : b.rows()));
#if LOCUS_SIMD
  if (ta && !tb && c.rows() <= k_dot_max_rows) {
    dot_gemm(a, b, c, accumulate, bias);
    return;
  }
  if (c.rows() >= k_w && c.cols() >= k_nr && k >= 1 && k <= k_kernel_max_depth) {
    kernel_gemm(a, ta, b, tb, c, accumulate, bias);
    return;
  }
#endif
  if (k == 0) {
    if (!accumulate) c.setZero();
  } else {
#if !defined(__AVX512F__)
    if (!blas_gemm(a, ta, b, tb, c, accumulate))
#endif
      eigen_gemm(a, op_a, b, op_b, c, accumulate);
  }
  if (bias) c.rowwise() += Eigen::Map<const Eigen::RowVectorXd>(bias, c.cols());
}

}  // namespace locus::detail
