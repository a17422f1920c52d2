#include "gemm.hpp"

#include <algorithm>
#include <cassert>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace locus::detail {

using Eigen::Index;
using Eigen::MatrixXd;

namespace {

// Eigen's product, for CPUs without AVX-512 and for products too narrow for the 24 x 8 kernel.
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

#if defined(__AVX512F__)

constexpr Index k_mr = 24;   // rows of c per micro-tile: three 8-double vectors
constexpr Index k_nr = 8;    // columns of c per micro-tile
constexpr Index k_kc = 256;  // depth of one slice (a 256 x 8 panel of op(b): 16 KB, L1)
constexpr Index k_mc = 96;   // rows of op(a) packed at once (96 x 256: 192 KB, L2)

// Packing buffers of the calling thread, grown on demand and kept.
double* buffer(Eigen::VectorXd& v, Index size) {
  if (v.size() < size) v.resize(size);
  return v.data();
}

// The rows of an 8-double vector that are below `count` (count >= 8: all of them).
__mmask8 first(Index count) {
  return count >= 8 ? __mmask8(0xFF) : static_cast<__mmask8>((1u << count) - 1u);
}

// The transpose of an 8 x 8 block: row i of the block is src + i ld, its first `depth` doubles
// (rows i >= rows read as zeros); dst + p stride receives column p for p < depth. Eight masked
// loads, 24 shuffles, `depth` stores: packing a transposed operand at vector speed.
void transpose_8x8(const double* src, Index ld, Index rows, Index depth, double* dst,
                   Index stride) {
  const __mmask8 m = first(depth);
  __m512d r[8];
  for (Index i = 0; i < 8; ++i)
    r[i] = i < rows ? _mm512_maskz_loadu_pd(m, src + i * ld) : _mm512_setzero_pd();
  // Pairs: even[i] = (r[2i][0], r[2i+1][0], r[2i][2], r[2i+1][2], ...), odd[i] the odd depths.
  __m512d even[4], odd[4];
  for (int i = 0; i < 4; ++i) {
    even[i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
    odd[i] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
  }
  // 128-bit lanes: 0x88 takes lanes 0 and 2 of each operand, 0xDD lanes 1 and 3.
  __m512d t[8];
  const __m512d* halves[2] = {even, odd};
  for (int h = 0; h < 2; ++h) {
    const __m512d* x = halves[h];
    const __m512d b0 = _mm512_shuffle_f64x2(x[0], x[1], 0x88);
    const __m512d b1 = _mm512_shuffle_f64x2(x[0], x[1], 0xDD);
    const __m512d c0 = _mm512_shuffle_f64x2(x[2], x[3], 0x88);
    const __m512d c1 = _mm512_shuffle_f64x2(x[2], x[3], 0xDD);
    t[h + 0] = _mm512_shuffle_f64x2(b0, c0, 0x88);
    t[h + 4] = _mm512_shuffle_f64x2(b0, c0, 0xDD);
    t[h + 2] = _mm512_shuffle_f64x2(b1, c1, 0x88);
    t[h + 6] = _mm512_shuffle_f64x2(b1, c1, 0xDD);
  }
  for (Index p = 0; p < depth; ++p) _mm512_storeu_pd(dst + p * stride, t[p]);
}

// op(a)'s rows [i0, i0 + mc) and depths [p0, p0 + kc) as panels of k_mr rows: panel r holds rows
// i0 + r k_mr + [0, h) with h = min(k_mr, mc - r k_mr) padded to a multiple of 8 by zeros, laid
// out depth by depth (h_padded doubles per depth).
void pack_a(const double* a, Index lda, bool trans, Index i0, Index mc, Index p0, Index kc,
            double* out) {
  for (Index r = 0; r < mc; r += k_mr) {
    const Index h = std::min(k_mr, mc - r), hp = (h + 7) / 8 * 8;
    if (!trans) {
      for (Index p = 0; p < kc; ++p) {
        const double* src = a + (i0 + r) + (p0 + p) * lda;
        for (Index v = 0; v < hp; v += 8)
          _mm512_storeu_pd(out + p * hp + v, _mm512_maskz_loadu_pd(first(h - v), src + v));
      }
    } else {
      // op(a)(i, p) = a(p, i): row i of the panel is contiguous in a.
      for (Index p = 0; p < kc; p += 8)
        for (Index v = 0; v < hp; v += 8)
          transpose_8x8(a + (p0 + p) + (i0 + r + v) * lda, lda, h - v, std::min<Index>(8, kc - p),
                        out + p * hp + v, hp);
    }
    out += kc * hp;
  }
}

// op(b)'s depths [p0, p0 + kc) and columns [j0, j0 + nc) as panels of k_nr columns (zero-padded),
// laid out depth by depth (8 doubles per depth). Used for the last panel of fewer than 8 columns,
// which the kernel cannot read in place.
void pack_b(const double* b, Index ldb, bool trans, Index p0, Index kc, Index j0, Index nc,
            double* out) {
  for (Index q = 0; q < nc; q += k_nr) {
    const Index w = std::min(k_nr, nc - q);
    if (!trans) {
      for (Index p = 0; p < kc; p += 8)
        transpose_8x8(b + (p0 + p) + (j0 + q) * ldb, ldb, w, std::min<Index>(8, kc - p),
                      out + p * k_nr, k_nr);
    } else {
      // op(b)(p, j) = b(j, p): the panel's row p is contiguous in b.
      for (Index p = 0; p < kc; ++p)
        _mm512_storeu_pd(out + p * k_nr,
                         _mm512_maskz_loadu_pd(first(w), b + (j0 + q) + (p0 + p) * ldb));
    }
    out += kc * k_nr;
  }
}

// c[0:h, 0:w] (= or +=) the product of a packed panel of V vectors of rows (8 V >= h) and an
// 8-column panel of op(b), kc deep, whose element (p, j) is pb[p ldp + j ldj]: op(b) in place
// (no transpose: ldp = 1, ldj = ldb; transposed: ldp = ldb, ldj = 1) or packed (8, 1). Each
// element of c is one chain of multiply-adds in depth order, then one addition to c.
template <int V>
void micro_kernel(Index kc, const double* __restrict pa, const double* __restrict pb, Index ldp,
                  Index ldj, double* c, Index ldc, Index h, Index w, bool add) {
  __m512d acc[V][k_nr];
  for (int v = 0; v < V; ++v)
    for (int j = 0; j < k_nr; ++j) acc[v][j] = _mm512_setzero_pd();
  for (Index p = 0; p < kc; ++p) {
    __m512d av[V];
    for (int v = 0; v < V; ++v) av[v] = _mm512_loadu_pd(pa + 8 * v);
    _mm_prefetch(reinterpret_cast<const char*>(pa + 8 * V * 8), _MM_HINT_T0);
    for (int j = 0; j < k_nr; ++j) {
      const __m512d bj = _mm512_set1_pd(pb[j * ldj]);
      for (int v = 0; v < V; ++v) acc[v][j] = _mm512_fmadd_pd(av[v], bj, acc[v][j]);
    }
    pa += 8 * V;
    pb += ldp;
  }
  // Rows of the last vector that exist in c.
  const __mmask8 last = first(h - 8 * (V - 1));
  for (int j = 0; j < k_nr; ++j) {
    if (j >= w) break;
    double* cj = c + j * ldc;
    for (int v = 0; v < V; ++v) {
      const __mmask8 m = v + 1 < V ? __mmask8(0xFF) : last;
      __m512d r = acc[v][j];
      if (add) r = _mm512_add_pd(_mm512_maskz_loadu_pd(m, cj + 8 * v), r);
      _mm512_mask_storeu_pd(cj + 8 * v, m, r);
    }
  }
}

void kernel_gemm(const Eigen::Ref<const MatrixXd>& a, bool ta, const Eigen::Ref<const MatrixXd>& b,
                 bool tb, Eigen::Ref<MatrixXd> c, bool accumulate) {
  const Index m = c.rows(), n = c.cols(), k = ta ? a.rows() : a.cols();
  const Index ldb = b.outerStride(), ldc = c.outerStride();
  const Index full = n / k_nr * k_nr;  // columns in full 8-column panels
  thread_local Eigen::VectorXd a_buffer, b_buffer;
  double* pa = buffer(a_buffer, k_mc * k_kc);
  double* pb = buffer(b_buffer, k_kc * k_nr);
  for (Index p0 = 0; p0 < k; p0 += k_kc) {
    const Index kc = std::min(k_kc, k - p0);
    // The first slice writes c (unless accumulating), later ones add to it.
    const bool add = accumulate || p0 > 0;
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
          if (h > 16)
            micro_kernel<3>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add);
          else if (h > 8)
            micro_kernel<2>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add);
          else
            micro_kernel<1>(kc, panel_a, panel_b, ldp, ldj, tile, ldc, h, w, add);
          panel_a += kc * ((h + 7) / 8 * 8);
        }
      }
    }
  }
}

#endif

}  // namespace

void gemm(const Eigen::Ref<const MatrixXd>& a, Op op_a, const Eigen::Ref<const MatrixXd>& b,
          Op op_b, Eigen::Ref<MatrixXd> c, bool accumulate) {
  const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  const Index k = ta ? a.rows() : a.cols();
  assert(c.rows() == (ta ? a.cols() : a.rows()));
  assert(c.cols() == (tb ? b.rows() : b.cols()));
  assert(k == (tb ? b.cols() : b.rows()));
#if defined(__AVX512F__)
  if (c.rows() >= 8 && c.cols() >= 8 && k >= 1) {
    kernel_gemm(a, ta, b, tb, c, accumulate);
    return;
  }
#endif
  if (k == 0) {
    if (!accumulate) c.setZero();
    return;
  }
  eigen_gemm(a, op_a, b, op_b, c, accumulate);
}

}  // namespace locus::detail
