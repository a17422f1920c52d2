#include "dense_hessian.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gemm.hpp"
#include "locus/io/memory.hpp"
#include "parallel.hpp"

namespace locus::detail {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using ConstMap = Eigen::Map<const MatrixXd>;

namespace {

// Loops with less work than this (multiply-adds) run on the calling thread: an OpenMP fork/join
// costs a few microseconds, the time of ~10^5 multiply-adds.
constexpr double k_parallel_work = 1e5;
// Scratch matrices up to 64 MB stay with the thread after a call (see Scratch).
constexpr Index k_keep_doubles = Index(1) << 23;
// residual_gram's tiles (k_gram_tile residual rows square) and the blocks of their products
// (k_gram_block square, gram_blocks).
constexpr Index k_gram_tile = 256;
constexpr Index k_gram_block = 64;

// c = x y^T (x: c.rows() x depth, y: c.cols() x depth) block by block, k_gram_block rows and
// columns at a time through detail::gemm; with `lower` (x and y the same rows, c square) only the
// blocks on and below the diagonal, the rest of c left as it is. The blocks keep every product
// small enough for locus's kernel's per-thread packing buffers or, for a deep product in an AVX2
// build, for Eigen's packing buffers on the stack (up to 128 KB: depth <= 256): no product of a
// J J^T allocates (Eigen's heap-allocated packing buffers for 256 x 256 tiles were a quarter of a
// Levenberg-Marquardt solve's page faults, 1400 of 5400 on the d = 500 problem, and more when
// glibc's malloc returned them to the kernel after each product). Cost: 2 c.rows() c.cols()
// depth flops (about 0.6 of that with `lower` on a 256 x 256 tile, against 0.5 for a symmetric
// rank update).
void gram_blocks(const Eigen::Ref<const MatrixXd>& x, const Eigen::Ref<const MatrixXd>& y,
                 bool lower, Eigen::Ref<MatrixXd> c) {
  for (Index j = 0; j < c.cols(); j += k_gram_block)
    for (Index i = lower ? j : 0; i < c.rows(); i += k_gram_block) {
      const Index h = std::min(k_gram_block, c.rows() - i),
                  w = std::min(k_gram_block, c.cols() - j);
      gemm(x.middleRows(i, h), Op::none, y.middleRows(j, w), Op::transpose, c.block(i, j, h, w),
           /*accumulate=*/false);
    }
}

// The forward pass on all d points: act[k] = sigma(z_{k-1}) (the input of layer k, k >= 1),
// d1[k] = sigma'(z_{k-1}), d2[k] = sigma''(z_{k-1}) (only when asked for), and the output
// s z_{K-1}. z holds the hidden layers' pre-activations; the output layer is formed in out, so z
// keeps its size from call to call (a resize reallocates, and a fresh block faults in again).
struct Pass {
  std::vector<MatrixXd> act, d1, d2;
  MatrixXd z, out;
};

// The calling thread's matrices, kept from call to call: on a fresh allocation above glibc's mmap
// threshold (128 KB) every 4 KB page faults on first touch, which cost more than the arithmetic
// here ([2,10,1], N = 10^4: 40 ms of page faults for 1 ms of GEMM). Repeated calls of one
// problem size reuse them without reallocating.
struct Scratch {
  Pass pass;
  std::vector<MatrixXd> dz;             // backward pass of one seed
  std::vector<MatrixXd> dk;             // residual_gram's D_k
  MatrixXd b, g, seed, xt, ga, w, wdz;  // B, dL/dout, seed, x~, second-order term's factors
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Large results and factors are written once, entry by entry: on 2 MiB pages their first
// touch costs a few hundred page faults instead of one per 4 KiB (io::advise_huge_pages).
void advise_huge(MatrixXd& a) {
  io::advise_huge_pages(a.data(), sizeof(double) * size_t(a.size()));
}

void forward(const Mlp& m, const MatrixXd& x, const VectorXd& theta, Pass& p, bool second) {
  const int K = m.n_layers();
  p.act.resize(K);
  p.d1.resize(K);
  p.d2.resize(K);
  for (int k = 0; k < K; ++k) {
    const LayerSlice& s = m.layer(k);
    const ConstMap w(theta.data() + s.weight_offset, s.in, s.out);
    MatrixXd& z = k + 1 == K ? p.out : p.z;
    z.noalias() = (k ? p.act[k] : x) * w;
    if (s.bias_offset >= 0)
      z.rowwise() += Eigen::Map<const Eigen::RowVectorXd>(theta.data() + s.bias_offset, s.out);
    if (k + 1 == K) {
      p.out *= m.output_scale();
      break;
    }
    p.act[k + 1].resize(z.rows(), z.cols());
    p.d1[k + 1].resize(z.rows(), z.cols());
    if (second) p.d2[k + 1].resize(z.rows(), z.cols());
    activation_batch(m.activation(), z.data(), static_cast<long>(z.size()), p.act[k + 1].data(),
                     p.d1[k + 1].data(), second ? p.d2[k + 1].data() : nullptr);
  }
}

// dz[k] = d(sum_i seed_i . out_i) / dz_k on all points (d x out_k), k = 0..K-1.
void backward(const Mlp& m, const VectorXd& theta, const Pass& p, const MatrixXd& seed,
              std::vector<MatrixXd>& dz) {
  const int K = m.n_layers();
  dz.resize(K);
  dz[K - 1].noalias() = m.output_scale() * seed;
  for (int k = K - 1; k > 0; --k) {
    const LayerSlice& s = m.layer(k);
    dz[k - 1].noalias() = dz[k] * ConstMap(theta.data() + s.weight_offset, s.in, s.out).transpose();
    dz[k - 1].array() *= p.d1[k].array();
  }
}

// The per-point gradients of seed_i . out_i written as rows of the column-major matrix b (leading
// dimension ld): point i goes to row row0 + i * stride, and the column of W_k[o,q] holds
// dz_k(i,o) act_k(i,q) (act_0 = x), the column of b_k[o] holds dz_k(i,o). Columns are disjoint
// memory, filled in parallel.
void fill_rows(const Mlp& m, const Pass& p, const MatrixXd& x, const std::vector<MatrixXd>& dz,
               double* b, Index ld, Index row0, Index stride) {
  const Index d = x.rows();
  const auto column = [&](Index col) {
    return Eigen::Map<VectorXd, 0, Eigen::InnerStride<>>(b + col * ld + row0, d,
                                                         Eigen::InnerStride<>(stride));
  };
  for (int k = 0; k < m.n_layers(); ++k) {
    const LayerSlice& s = m.layer(k);
    const MatrixXd& a = k ? p.act[k] : x;
    omp_parallel_for(s.out, double(d) * double(s.out * s.in) > k_parallel_work, [&](Index o) {
      for (Index q = 0; q < s.in; ++q)
        column(s.weight_offset + o * s.in + q) = dz[k].col(o).cwiseProduct(a.col(q));
      if (s.bias_offset >= 0) column(s.bias_offset + o) = dz[k].col(o);
    });
  }
}

// The second-order term of a one-hidden-layer network (see the header) added to the lower
// triangle of h. ga = dL/da_1 = dz_1 W_1, with dz_1 = s G. Each hidden unit o owns the rows of
// its incoming parameters, so the units are processed in parallel without conflicts.
void add_second_order(const Mlp& m, const VectorXd& theta, const Pass& p, const MatrixXd& x,
                      const MatrixXd& dz1, Scratch& sc, MatrixXd& h) {
  const LayerSlice& s0 = m.layer(0);
  const LayerSlice& s1 = m.layer(1);
  const Index d = x.rows(), in = s0.in, q_count = in + (s0.bias_offset >= 0 ? 1 : 0);
  MatrixXd& xt = sc.xt;  // x~ = [x, 1]
  xt.resize(d, q_count);
  xt.leftCols(in) = x;
  if (q_count > in) xt.col(in).setOnes();
  const auto index0 = [&](Index o, Index q) {  // parameter index of W_0[o,q] (q = in: b_0[o])
    return q < in ? s0.weight_offset + o * in + q : s0.bias_offset + o;
  };
  sc.ga.noalias() = dz1 * ConstMap(theta.data() + s1.weight_offset, s1.in, s1.out).transpose();
  sc.w = p.d2[1].cwiseProduct(sc.ga);  // sigma''(z_io) ga_io
  const bool parallel = double(d) * double(s0.out) * double(q_count * q_count) > k_parallel_work;
  omp_parallel_for(s0.out, parallel, [&](Index o) {
    thread_local MatrixXd weighted, block;  // each thread's own (d x q), reused across calls
    weighted = xt.array().colwise() * sc.w.col(o).array();
    block.noalias() = xt.transpose() * weighted;
    for (Index q = 0; q < q_count; ++q)
      for (Index r = 0; r < q_count; ++r)
        if (index0(o, q) >= index0(o, r)) h(index0(o, q), index0(o, r)) += block(q, r);
  });
  // Rows of W_1[j, o] (after every layer-0 parameter): columns W_0[o, q].
  MatrixXd n_j;  // q x h, small
  for (Index j = 0; j < s1.out; ++j) {
    sc.wdz = p.d1[1].array().colwise() * dz1.col(j).array();
    n_j.noalias() = xt.transpose() * sc.wdz;
    for (Index o = 0; o < s0.out; ++o)
      for (Index q = 0; q < q_count; ++q)
        h(s1.weight_offset + j * s1.in + o, index0(o, q)) += n_j(q, o);
  }
}

}  // namespace

bool gemm_hessian_applies(const Objective& objective) {
  const Mlp& m = objective.model();
  const double b_bytes =
      8.0 * double(objective.n_residuals()) * double(objective.n_params());  // l d n doubles
  return m.n_layers() <= 2 && m.output_dim() <= 16 && b_bytes <= double(1 << 30);
}

void gram_lower(const Eigen::Ref<const MatrixXd>& b, double scale, MatrixXd& h,
                const ProgressCallback& progress, const std::string& stage) {
  const Index n = b.cols(), rows = b.rows();
  h.resize(n, n);
  advise_huge(h);
  // Tiles of 256 x 256, each one single-threaded GEMM (a syrk on the diagonal) whose shape
  // depends on n alone, so each entry is summed in the same order for any thread count; a block
  // of 256 columns amortises the packing of B's rows.
  constexpr Index tile = 256;
  for (Index c0 = 0; c0 < n; c0 += tile) {
    const Index cw = std::min(tile, n - c0), tiles = (n - c0 + tile - 1) / tile;
    const bool parallel = double(rows) * double(cw) * double(n - c0) > k_parallel_work;
    omp_parallel_for(
        tiles, parallel,
        [&](Index t) {
          const Index r0 = c0 + t * tile, rw = std::min(tile, n - r0);
          if (t == 0) {  // the diagonal tile: its lower triangle only (a syrk)
            h.block(c0, c0, cw, cw).setZero();
            h.block(c0, c0, cw, cw)
                .selfadjointView<Eigen::Lower>()
                .rankUpdate(b.middleCols(c0, cw).transpose(), scale);
          } else {
            h.block(r0, c0, rw, cw).noalias() =
                scale * (b.middleCols(r0, rw).transpose() * b.middleCols(c0, cw));
          }
        },
        Schedule::dynamic);
    report_progress(progress, {.stage = stage, .done = c0 + cw, .total = n});
  }
}

MatrixXd assemble_hessian(const Objective& objective, const VectorXd& theta,
                          const ProgressCallback& progress, const std::string& stage) {
  const Mlp& m = objective.model();
  const Dataset& data = objective.data();
  const Index d = data.size(), l = m.output_dim(), n = m.n_params(), rows = l * d;
  io::check_memory(8.0 * double(n) * (double(n) + double(rows)),
                   "the dense Hessian of " + std::to_string(n) + " parameters on " +
                       std::to_string(d) + " points",
                   "n^2 + l d n doubles");
  Scratch& sc = scratch();
  const Pass& p = sc.pass;
  forward(m, data.x, theta, sc.pass, /*second=*/m.n_layers() == 2);  // add_second_order's d2
  const double c = objective.scale();
  // G = dL/d out, and the rows of B = Lambda^(1/2) J, one backward pass per output r.
  MatrixXd &g = sc.g, &b = sc.b, &seed = sc.seed;
  b.resize(rows, n);
  advise_huge(b);
  seed.resize(d, l);
  double gn_scale = 1.0;
  if (objective.loss_spec().kind == LossKind::squared) {
    g.noalias() = (2.0 * c) * (p.out - data.y);
    gn_scale = 2.0 * c;  // Lambda_i = 2c I: B = J and H_GN = 2c J^T J
    for (Index r = 0; r < l; ++r) {
      seed.setZero();
      seed.col(r).setOnes();
      backward(m, theta, p, seed, sc.dz);
      fill_rows(m, p, data.x, sc.dz, b.data(), rows, r * d, 1);
    }
  } else {
    // Softmax rows with the log-sum-exp shift; m_i = sum_j y_ij.
    MatrixXd prob = (p.out.colwise() - p.out.rowwise().maxCoeff()).array().exp().matrix();
    prob.array().colwise() /= prob.rowwise().sum().array();
    const VectorXd mass = data.y.rowwise().sum();
    g = c * ((prob.array().colwise() * mass.array()).matrix() - data.y);
    for (Index r = 0; r < l; ++r) {
      // Row r of R_i: sqrt(c m_i p_ir) (e_r - p_i).
      seed = -prob;
      seed.col(r).array() += 1.0;
      seed.array().colwise() *= (c * mass.array() * prob.col(r).array()).sqrt();
      backward(m, theta, p, seed, sc.dz);
      fill_rows(m, p, data.x, sc.dz, b.data(), rows, r * d, 1);
    }
  }
  MatrixXd h;
  gram_lower(b, gn_scale, h, progress, stage);
  if (m.n_layers() == 2) {
    g *= m.output_scale();  // dz_1 = s G
    add_second_order(m, theta, p, data.x, g, sc, h);
  }
  h.triangularView<Eigen::StrictlyUpper>() = h.transpose();
  // A large B is not kept: its page faults are then small against its l d n^2 / 2 multiply-adds.
  if (b.size() > k_keep_doubles) b.resize(0, 0);
  return h;
}

void assemble_jacobian(const Objective& objective, const VectorXd& theta, MatrixXd& jac) {
  const Mlp& m = objective.model();
  const Dataset& data = objective.data();
  const Index d = data.size(), l = m.output_dim(), n = m.n_params();
  Scratch& sc = scratch();
  forward(m, data.x, theta, sc.pass, /*second=*/false);
  if (jac.rows() != l * d || jac.cols() != n) {
    jac.resize(l * d, n);
    advise_huge(jac);
  }
  MatrixXd& seed = sc.seed;
  seed.resize(d, l);
  for (Index j = 0; j < l; ++j) {
    // Seed e_j at every point: dr_ij / dtheta into rows i*l + j.
    seed.setZero();
    seed.col(j).setOnes();
    backward(m, theta, sc.pass, seed, sc.dz);
    fill_rows(m, sc.pass, data.x, sc.dz, jac.data(), l * d, j, l);
  }
}

void assemble_residual_gram(const Objective& objective, const VectorXd& theta, MatrixXd& g) {
  const Mlp& m = objective.model();
  const Dataset& data = objective.data();
  const int K = m.n_layers();
  const Index d = data.size(), l = m.output_dim(), rows = l * d;
  double width_sum = 0.0;
  for (int k = 0; k < K; ++k) width_sum += double(m.layer(k).out);
  io::check_memory(8.0 * (double(rows) * double(rows) + double(rows) * width_sum),
                   "the residual Gram matrix J J^T of " + std::to_string(rows) + " residuals",
                   "(l d)^2 + l d (sum of layer widths) doubles");
  Scratch& sc = scratch();
  forward(m, data.x, theta, sc.pass, /*second=*/false);
  // dz[k] stacked by output: D_k row i*l + j is dz_k(i, :) for the seed e_j.
  std::vector<MatrixXd>& dk = sc.dk;
  dk.resize(K);
  for (int k = 0; k < K; ++k) dk[k].resize(rows, m.layer(k).out);
  MatrixXd& seed = sc.seed;
  seed.resize(d, l);
  for (Index j = 0; j < l; ++j) {
    seed.setZero();
    seed.col(j).setOnes();
    backward(m, theta, sc.pass, seed, sc.dz);
    for (int k = 0; k < K; ++k)
      Eigen::Map<MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>(
          dk[k].data() + j, d, dk[k].cols(),
          Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(rows, l)) = sc.dz[k];
  }
  // The lower triangle in tiles of 256 x 256 residual rows; tile (r0, c0) covers the points
  // [r0/l, (r0 + rw - 1)/l] x [c0/l, ...], whose input Grams A~ A~^T it forms itself.
  if (g.rows() != rows || g.cols() != rows) {
    g.resize(rows, rows);
    advise_huge(g);
  }
  const Index n_tiles = (rows + k_gram_tile - 1) / k_gram_tile;
  std::vector<std::pair<Index, Index>> tiles;  // (row tile, column tile), column <= row
  for (Index t = 0; t < n_tiles; ++t)
    for (Index u = 0; u <= t; ++u) tiles.emplace_back(t, u);
  const double work = double(rows) * double(rows) * (width_sum + double(m.input_dim()));
  omp_parallel_for(
      Index(tiles.size()), work > k_parallel_work,
      [&](Index t) {
        // The tile's two products, in matrices of the largest tile's size that the thread keeps
        // (tiles of other shapes are their top-left corners: nothing is freed or allocated
        // between tiles, calls or solves).
        thread_local MatrixXd q_store, pk_store;
        if (q_store.rows() != k_gram_tile) {
          q_store.resize(k_gram_tile, k_gram_tile);
          pk_store.resize(k_gram_tile, k_gram_tile);
        }
        const Index r0 = tiles[t].first * k_gram_tile, c0 = tiles[t].second * k_gram_tile;
        const Index rw = std::min(k_gram_tile, rows - r0), cw = std::min(k_gram_tile, rows - c0);
        const Index p0 = r0 / l, pr = (r0 + rw - 1) / l - p0 + 1;  // points of the rows
        const Index p1 = c0 / l, pc = (c0 + cw - 1) / l - p1 + 1;  // points of the columns
        const bool diagonal = r0 == c0;  // only its lower triangle is formed (then mirrored)
        auto block = g.block(r0, c0, rw, cw);
        block.setZero();
        for (int k = 0; k < K; ++k) {
          const LayerSlice& s = m.layer(k);
          const MatrixXd& a = k ? sc.pass.act[k] : data.x;
          auto q = q_store.topLeftCorner(rw, cw);
          auto pk = pk_store.topLeftCorner(pr, pc);
          gram_blocks(dk[k].middleRows(r0, rw), dk[k].middleRows(c0, cw), diagonal, q);
          gram_blocks(a.middleRows(p0, pr), a.middleRows(p1, pc), diagonal, pk);
          const double one = s.bias_offset >= 0 ? 1.0 : 0.0;  // the bias's column of ones in A~
          // Entries (r, c) with r >= c on a diagonal tile: their blocks of q and pk are formed.
          for (Index c = 0; c < cw; ++c) {
            const Index r_begin = diagonal ? c : 0, n = rw - r_begin;
            if (l == 1) {  // rows are points
              block.col(c).tail(n).array() +=
                  q.col(c).tail(n).array() * (pk.col(c).tail(n).array() + one);
              continue;
            }
            const auto pcol = pk.col((c0 + c) / l - p1);
            for (Index r = r_begin; r < rw; ++r)
              block(r, c) += q(r, c) * (pcol((r0 + r) / l - p0) + one);
          }
        }
      },
      Schedule::dynamic);
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  for (MatrixXd& dm : dk)
    if (dm.size() > k_keep_doubles) dm.resize(0, 0);  // as B in assemble_hessian
}

}  // namespace locus::detail
