#include "locus/core/objective.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "dense_hessian.hpp"
#include "gemm.hpp"
#include "locus/io/memory.hpp"
#include "parallel.hpp"

namespace locus {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using ConstMap = Eigen::Map<const MatrixXd>;

std::string_view to_string(LossKind k) {
  return k == LossKind::squared ? "squared" : "cross_entropy";
}
LossKind parse_loss_kind(std::string_view name) {
  if (name == "squared" || name == "mse") return LossKind::squared;
  if (name == "cross_entropy" || name == "ce") return LossKind::cross_entropy;
  throw std::invalid_argument("unknown loss '" + std::string(name) +
                              "' (valid: squared, cross_entropy)");
}
std::string_view to_string(Reduction r) { return r == Reduction::sum ? "sum" : "mean"; }
Reduction parse_reduction(std::string_view name) {
  if (name == "sum") return Reduction::sum;
  if (name == "mean") return Reduction::mean;
  throw std::invalid_argument("unknown reduction '" + std::string(name) + "' (valid: sum, mean)");
}

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("threads must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
}
int num_threads() { return omp_get_max_threads(); }

// Chunk and ChunkState are in detail rather than in the anonymous namespace: Objective::PassCache
// and HessianOperator::State, members of public classes, hold them.
namespace detail {

// Data points are processed in chunks whose boundaries depend on d and the architecture alone
// (never on the thread count); partial sums are added in chunk order. This is what makes results
// bitwise reproducible for any number of threads. A chunk has at least 256 rows when some layer
// has 2^16 or more weights: its GEMMs then dominate and need the rows to run at full speed.
// Narrower networks take chunks of 64 rows: a chunk's ten or so rows x width matrices then stay
// in the core's L2 cache (a [10,64,1] HVP on 256 points: 79 us as one chunk, 66 us as four on
// one thread, 36 us on two), and a small net spreads over the threads. At most ~32 chunks keep
// the per-chunk gradient buffers (one n-vector each) small.
// A chunk is rows [begin, begin + size) of the data, or, when rows is set (a mini-batch),
// the data rows rows[begin], ..., rows[begin + size - 1].
// All chunks but the last have the same size; `tail` marks a shorter last one.
struct Chunk {
  Index begin = 0, size = 0;
  const Index* rows = nullptr;
  bool tail = false;
};
}  // namespace detail

namespace {
using detail::Chunk;

std::vector<Chunk> make_chunks(const Mlp& model, Index d, const Index* rows = nullptr) {
  Index widest = 0;
  for (int k = 0; k < model.n_layers(); ++k)
    widest = std::max(widest, model.layer(k).in * model.layer(k).out);
  const Index min_rows = widest >= (Index{1} << 16) ? 256 : 64;
  const Index size = std::max<Index>(min_rows, (d + 31) / 32);
  std::vector<Chunk> chunks;
  for (Index b = 0; b < d; b += size)
    chunks.push_back({b, std::min(size, d - b), rows, d - b < size});
  return chunks;
}

// The chunk's rows of m: a block of m itself, or the gathered batch rows copied into the top
// rows of `buffer` (batch-sized, never the whole data; it only grows, so batches of varying
// size reuse it without reallocating).
Eigen::Ref<const MatrixXd> chunk_rows(const MatrixXd& m, const Chunk& c, MatrixXd& buffer) {
  if (!c.rows) return m.middleRows(c.begin, c.size);
  if (buffer.rows() < c.size || buffer.cols() != m.cols()) buffer.resize(c.size, m.cols());
  for (Index k = 0; k < c.size; ++k) buffer.row(k) = m.row(c.rows[c.begin + k]);
  return buffer.topRows(c.size);
}

// k_lanes doubles as one value (a GCC/Clang vector extension the width of the target's vector
// registers: 8 with AVX-512, 4 with AVX2, 2 with SSE2; wider than the registers, it went through
// the stack: a [10,64,1] HVP 89 -> 118 us on AVX2). Arithmetic is lane by lane, so the
// narrow-layer passes below sum in an order fixed by the row count alone. Rows past the last
// whole vector go through the same formulas one lane at a time.
#if defined(__AVX512F__)
constexpr int k_lanes = 8;
#elif defined(__AVX__)
constexpr int k_lanes = 4;
#else
constexpr int k_lanes = 2;
#endif
using Lanes = double __attribute__((vector_size(8 * k_lanes)));
[[gnu::always_inline]] inline Lanes load_lanes(const double* p) {
  Lanes x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
[[gnu::always_inline]] inline void store_lanes(double* p, Lanes x) { std::memcpy(p, &x, sizeof x); }
// The lanes of x added in one fixed tree (halves added lane by lane until one is left).
[[gnu::always_inline]] inline double lane_sum(Lanes x) {
  for (int w = k_lanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) x[l] += x[l + w];
  return x[0];
}

// Per-chunk n-vectors for the calling thread: chunk 0 writes into the destination itself, chunk
// c >= 1 into parts[c - 1], which keep their storage from call to call (a vector of the large
// net's 669706 parameters is 5 MB; allocating it per call costs a page fault per 4 KB).
// Only the calling thread touches the std::vector itself; OpenMP workers write its elements.
std::vector<VectorXd>& thread_partials() {
  thread_local std::vector<VectorXd> parts;
  return parts;
}
std::vector<VectorXd>& chunk_partials(size_t n_chunks, Index n) {
  std::vector<VectorXd>& parts = thread_partials();
  if (parts.size() < n_chunks) parts.resize(n_chunks);
  for (size_t c = 0; c + 1 < n_chunks; ++c) parts[c].resize(n);
  return parts;
}
// Runs write(out) for chunk c's partial n-vector out: chunk 0's is the destination itself,
// chunk c >= 1's parts[c - 1], both summed afterwards by the thread whose chunk_partials parts
// is. A short vector (n <= 4096) of chunk c >= 1 is written into a buffer of the writing thread
// and copied over in one pass at the end: the summing thread read the shared vector when it
// summed the previous call's parts (add_partials), and which thread wrote it then varies from
// call to call, so a thread writing into it directly stalled on regaining each cache line at the
// backward pass's scattered stores, 1.3-2.5 us per 64-row chunk of a [10,64,1] HVP (against 15
// us of work) for a pool worker; the copy's burst of stores regains them together (bench/README).
// The summing thread's own chunks stalled the same way when a worker had written them last:
// copying them too took that HVP's two-thread mean 34.3-35.0 -> 33.7-34.0 us in one process
// alternating both ways (x86-64-v3 build); on one thread the copies cost nothing measurable.
// Longer vectors, whose chunks' work dwarfs those transfers, and chunk 0 (the destination, the
// calling thread's first index) are written in place.
template <class Write>
void write_partial(size_t c, double* total, std::vector<VectorXd>& parts, Index n,
                   const Write& write) {
  double* dest = c == 0 ? total : parts[c - 1].data();
  if (n > 4096 || c == 0) return write(dest);
  thread_local VectorXd own;
  own.resize(n);
  write(own.data());
  std::copy_n(own.data(), n, dest);
}
// total (chunk 0's part) += the parts of chunks 1, 2, ... in chunk order: the sum
// ((p_0 + p_1) + p_2) + ... whatever the number of threads. Long vectors are split into blocks of
// 2^15 entries that the threads share (each entry is still summed in chunk order): the large
// net's four 669706-vectors took 1-2 ms on one thread, 5-10% of its gradient. One pass over all
// the parts (each vector of entries summed across them), not one pass per part: the parts a
// worker wrote then arrive from its core together rather than one after another (a [10,64,1]
// HVP on two threads: median 0.3-0.5 us less in one process alternating both ways).
void add_partials(size_t n_chunks, double* total, Index n, const std::vector<VectorXd>& parts) {
  constexpr Index block = Index{1} << 15;
  const Index n_blocks = (n + block - 1) / block;
  detail::parallel_for(n_blocks, n_chunks > 1, [&](Index b) {
    const Index begin = b * block, end = std::min(n, begin + block);
    Index i = begin;
    for (; i + k_lanes <= end; i += k_lanes) {
      Lanes t = load_lanes(total + i);
      for (size_t c = 0; c + 1 < n_chunks; ++c) t += load_lanes(parts[c].data() + i);
      store_lanes(total + i, t);
    }
    for (; i < end; ++i)
      for (size_t c = 0; c + 1 < n_chunks; ++c) total[i] += parts[c][i];
  });
}

// dst = a b^T, or dst += a b^T with accumulate, for a (rows x k) and b (cols x k): a layer's
// backward product dL/dz_k W_k with k = the layer's outputs. For k <= 4 (a scalar output: k = 1)
// the sum of k outer products of columns, which is what GEMM would compute, minus the packing of
// both operands and the clearing of dst that a depth-1 GEMM costs (a quarter of a small net's
// backward pass).
template <class B>
void times_transpose(const MatrixXd& a, const B& b, MatrixXd& dst, bool accumulate) {
  const Index k = a.cols();
  if (!accumulate) dst.resize(a.rows(), b.rows());
  if (k > 4) {
    detail::gemm(a, detail::Op::none, b, detail::Op::transpose, dst, accumulate);
    return;
  }
  for (Index j = 0; j < k; ++j) {
    if (j == 0 && !accumulate)
      dst.noalias() = a.col(0) * b.col(0).transpose();
    else
      dst.noalias() += a.col(j) * b.col(j).transpose();
  }
}

// R-forward from the last hidden layer into a narrow output layer (Out <= 4 outputs, wt = W^T
// and vt = V^T of that layer, in x Out), in one pass over the hidden layer's columns j, with
// rz = act_prev V_prev^T (the hidden layer's R{z} before its bias vb, which may be null):
//   R{act}[:, j] = sigma'[:, j] .* (rz[:, j] + vb[j])
//   R{out_z}[:, t] = sum_j act[:, j] V[t, j] + R{act}[:, j] W[t, j]   (+ out_bias[t] unless null)
// Neither R{z} + vb nor R{act} is stored: r_backward_columns forms both again by the same
// operations (the same bits). The products with the hidden layer are Out scaled columns each,
// accumulated in a column of R{out_z} that stays in L1: five passes over the hidden layer fewer
// than a bias pass, a product pass and two GEMVs.
template <int Out>
void r_forward_columns(const MatrixXd& rz, const double* bias, const MatrixXd& d1,
                       const MatrixXd& act, const ConstMap& wt, const ConstMap& vt,
                       const double* out_bias, MatrixXd& dst) {
  const Index rows = rz.rows(), in = rz.cols(), whole = rows / k_lanes * k_lanes;
  dst.setZero(rows, Out);
  double* o[Out];
  for (int t = 0; t < Out; ++t) o[t] = dst.col(t).data();
  for (Index j = 0; j < in; ++j) {
    const double *z = rz.col(j).data(), *a = act.col(j).data(), *s1 = d1.col(j).data();
    const double b = bias ? bias[j] : 0.0;
    double w[Out], v[Out];
    for (int t = 0; t < Out; ++t) w[t] = wt(j, t), v[t] = vt(j, t);
    for (Index i = 0; i < whole; i += k_lanes) {
      Lanes zi = load_lanes(z + i);
      if (bias) zi += b;
      const Lanes ri = load_lanes(s1 + i) * zi, ai = load_lanes(a + i);
      for (int t = 0; t < Out; ++t)
        store_lanes(o[t] + i, load_lanes(o[t] + i) + ai * v[t] + ri * w[t]);
    }
    for (Index i = whole; i < rows; ++i) {
      const double zi = bias ? z[i] + b : z[i], ri = s1[i] * zi;
      for (int t = 0; t < Out; ++t) o[t][i] += a[i] * v[t] + ri * w[t];
    }
  }
  if (out_bias)
    for (int t = 0; t < Out; ++t) dst.col(t).array() += out_bias[t];
}

// R-backward through a narrow output layer k >= 1 (Out <= 4 outputs, wt = W_k^T, vt = V_k^T,
// in x Out) into the last hidden layer, in one pass over its columns j, with R{z} = rz[:, j] +
// vb[j] and R{act} = sigma' .* R{z} formed as r_forward_columns forms them:
//   R{dz_{k-1}}[:, j] = (sum_t R{dz_k}[:, t] W[t, j] + dz_k[:, t] V[t, j]) .* sigma'[:, j]
//                       + ga[:, j] .* sigma''[:, j] .* R{z}[:, j]
//   (H v)_W[t, j] = act[:, j] . R{dz_k}[:, t] + R{act}[:, j] . dz_k[:, t]   into hw (in x Out)
//   (H v)_b_{k-1}[j] = sum_i R{dz_{k-1}}[i, j]                             into hb unless null
// with ga = dL/dact = dz_k W_k; for Out = 1 it is the product dz_k[i] W[0, j] formed here (the
// same single multiplication as the backward pass's, so the same bits), not read from memory.
// R{ga} and its product with sigma' stay in registers, and the sums ride on the same pass.
// Columns are taken two at a time (each with sums of its own): the rows of R{dz_k} and dz_k
// are loaded once for both, and the per-column work outside the row loop is shared.
template <int Out>
void r_backward_columns(const MatrixXd& rdz, const MatrixXd& dz, const ConstMap& wt,
                        const ConstMap& vt, const MatrixXd& act, const MatrixXd& d1,
                        const MatrixXd& ga, const MatrixXd& d2, const MatrixXd& rz,
                        const double* bias, MatrixXd& dst, double* hw, double* hb) {
  const Index rows = rdz.rows(), in = wt.rows(), whole = rows / k_lanes * k_lanes;
  dst.resize(rows, in);
  const double *r[Out], *z[Out];
  for (int t = 0; t < Out; ++t) r[t] = rdz.col(t).data(), z[t] = dz.col(t).data();
  // Columns j0 .. j0 + Cols - 1.
  const auto columns = [&]<int Cols>(Index j0) {
    double w[Cols][Out], v[Cols][Out], vb[Cols];
    const double *x[Cols], *a[Cols], *g[Cols], *b[Cols], *q[Cols];
    double* out[Cols];
    for (int c = 0; c < Cols; ++c) {
      const Index j = j0 + c;
      for (int t = 0; t < Out; ++t) w[c][t] = wt(j, t), v[c][t] = vt(j, t);
      x[c] = act.col(j).data(), a[c] = d1.col(j).data(), b[c] = d2.col(j).data();
      g[c] = Out == 1 ? nullptr : ga.col(j).data(), q[c] = rz.col(j).data();
      vb[c] = bias ? bias[j] : 0.0;
      out[c] = dst.col(j).data();
    }
    Lanes hb_j[Cols] = {}, hw_t[Cols][Out] = {};
    for (Index i = 0; i < whole; i += k_lanes) {
      Lanes ri[Out], zi[Out];
      for (int t = 0; t < Out; ++t) ri[t] = load_lanes(r[t] + i), zi[t] = load_lanes(z[t] + i);
      for (int c = 0; c < Cols; ++c) {
        Lanes s = ri[0] * w[c][0] + zi[0] * v[c][0];
        for (int t = 1; t < Out; ++t) s += ri[t] * w[c][t] + zi[t] * v[c][t];
        const Lanes gi = Out == 1 ? zi[0] * w[c][0] : load_lanes(g[c] + i);
        Lanes qi = load_lanes(q[c] + i);
        if (bias) qi += vb[c];
        const Lanes ai = load_lanes(a[c] + i), rxi = ai * qi;
        const Lanes o = s * ai + gi * load_lanes(b[c] + i) * qi;
        store_lanes(out[c] + i, o);
        hb_j[c] += o;
        const Lanes xi = load_lanes(x[c] + i);
        for (int t = 0; t < Out; ++t) hw_t[c][t] += xi * ri[t] + rxi * zi[t];
      }
    }
    for (Index i = whole; i < rows; ++i)
      for (int c = 0; c < Cols; ++c) {
        double s = r[0][i] * w[c][0] + z[0][i] * v[c][0];
        for (int t = 1; t < Out; ++t) s += r[t][i] * w[c][t] + z[t][i] * v[c][t];
        const double gi = Out == 1 ? z[0][i] * w[c][0] : g[c][i];
        const double qi = bias ? q[c][i] + vb[c] : q[c][i], rxi = a[c][i] * qi;
        const double o = s * a[c][i] + gi * b[c][i] * qi;
        out[c][i] = o;
        hb_j[c][i - whole] += o;
        for (int t = 0; t < Out; ++t) hw_t[c][t][i - whole] += x[c][i] * r[t][i] + rxi * z[t][i];
      }
    for (int c = 0; c < Cols; ++c) {
      for (int t = 0; t < Out; ++t) hw[j0 + c + t * in] = lane_sum(hw_t[c][t]);
      if (hb) hb[j0 + c] = lane_sum(hb_j[c]);
    }
  };
  Index j = 0;
  for (; j + 2 <= in; j += 2) columns.template operator()<2>(j);
  for (; j < in; ++j) columns.template operator()<1>(j);
}

// The narrow-layer passes above for the layer's output count; false (nothing done) for a layer
// of more than 4 outputs.
constexpr int k_narrow = 4;
bool r_forward_narrow(const MatrixXd& rz, const double* bias, const MatrixXd& d1,
                      const MatrixXd& act, const ConstMap& wt, const ConstMap& vt,
                      const double* out_bias, MatrixXd& dst) {
  static constexpr decltype(&r_forward_columns<1>) by_outputs[] = {
      r_forward_columns<1>, r_forward_columns<2>, r_forward_columns<3>, r_forward_columns<4>};
  if (wt.cols() > k_narrow) return false;
  by_outputs[wt.cols() - 1](rz, bias, d1, act, wt, vt, out_bias, dst);
  return true;
}
bool r_backward_narrow(const MatrixXd& rdz, const MatrixXd& dz, const ConstMap& wt,
                       const ConstMap& vt, const MatrixXd& act, const MatrixXd& d1,
                       const MatrixXd& ga, const MatrixXd& d2, const MatrixXd& rz,
                       const double* bias, MatrixXd& dst, double* hw, double* hb) {
  static constexpr decltype(&r_backward_columns<1>) by_outputs[] = {
      r_backward_columns<1>, r_backward_columns<2>, r_backward_columns<3>, r_backward_columns<4>};
  if (wt.cols() > k_narrow) return false;
  by_outputs[wt.cols() - 1](rdz, dz, wt, vt, act, d1, ga, d2, rz, bias, dst, hw, hb);
  return true;
}

// Runs body(c) for every chunk c, each chunk on one thread. One chunk (d <= 64 points on a narrow
// network, see make_chunks), one thread, or a call from inside an enclosing parallel region (e.g.
// the dense Hessian's columns) runs the chunks inline on the calling thread: no parallel region,
// whose fork and join cost several microseconds, a tenth of a small net's whole HVP. Otherwise the
// chunks spread over the OpenMP threads in any order; callers then sum the chunks' results in
// chunk order, so results are the same bits either way and for any thread count.
template <class Body>
void for_each_chunk(size_t n_chunks, const Body& body) {
  detail::for_each_index(Index(n_chunks), [&](Index c) { body(size_t(c)); });
}

}  // namespace
namespace detail {
// Everything a forward and backward pass leaves behind on one chunk: enough to form the
// gradient and, with one more R-forward and R-backward pass, any Hessian-vector product.
// Layer k (0-based, K = n_layers) maps act[k] (rows x in_k) to z_k = act[k] W_k^T + b_k.
struct ChunkState {
  Chunk chunk;
  // act[k] = sigma(z_{k-1}) for k = 1..K-1; act[0] stays empty: layer 0 reads the data rows in
  // place (Engine::input), so a cached state (HessianOperator) never copies the inputs.
  std::vector<MatrixXd> act;
  MatrixXd batch_x;  // a mini-batch's gathered input rows (batch-sized, reused between calls)
  std::vector<MatrixXd> d1;  // d1[k] = sigma'(z_{k-1}), k = 1..K-1 (d1[0] unused)
  std::vector<MatrixXd> d2;  // d2[k] = sigma''(z_{k-1})
  std::vector<MatrixXd> dz;  // dz[k] = dL/dz_k (backward pass), k = 0..K-1
  std::vector<MatrixXd> ga;  // ga[k] = dL/dact[k] for k = 1..K-1
  MatrixXd out;              // network output s * z_{K-1}
  MatrixXd p;                // softmax(out) for cross-entropy
  VectorXd row_mass;         // sum_j y_ij for cross-entropy
  double loss = 0.0;
};
}  // namespace detail
namespace {
using detail::ChunkState;

// One thread's scratch for any pass over a chunk: its matrices keep their storage from call to
// call (a 256 x 512 layer is 1 MB, above glibc's mmap threshold, so a fresh allocation per call
// would page-fault on every touch). One per thread, shared by loss, gradient, HVP and Jacobian;
// a HessianOperator keeps its own ChunkStates and uses only the R-pass scratch.
struct Workspace {
  ChunkState st;  // forward/backward state of the chunk being processed
  // Per-layer scratch (entry k has layer k's width): one matrix reused for layers of different
  // widths would be freed and reallocated at every layer of every call, and a 256 x 64 block is
  // already at glibc's mmap threshold (page faults on every touch: 5x a small net's HVP).
  std::vector<MatrixXd> z;         // z[k]: the pre-activation of layer k (forward)
  MatrixXd y_batch;                // a mini-batch's gathered targets
  MatrixXd gout;                   // dL/d(out) (output_gradient)
  std::vector<MatrixXd> rz, ract;  // R{z_k}, R{act_k} (R-forward)
  MatrixXd rout, rg;               // R{out}, R{G} (R-backward)
  std::vector<MatrixXd> rdz, rga;  // R{dz_k}, R{ga_k} (R-backward)
};
// The thread's workspace for chunk c: one for the full-size chunks and one for a shorter last
// chunk, so that a thread doing both (d = 500: 256 + 244 rows) never resizes, which would free
// and reallocate every matrix on every call.
Workspace& workspace(const Chunk& c) {
  thread_local Workspace w[2];
  return w[c.tail ? 1 : 0];
}

class Engine {
 public:
  Engine(const Mlp& m, const Dataset& d, const LossSpec& l) : model_(m), data_(d), loss_(l) {}

  // The inputs of layer k on the chunk: for k = 0 the data rows themselves (a block of the
  // shared data, not a copy) or a mini-batch's gathered rows, else the activations act[k].
  Eigen::Ref<const MatrixXd> input(const ChunkState& st, int k) const {
    if (k > 0) return st.act[k];
    if (st.chunk.rows) return st.batch_x.topRows(st.chunk.size);
    return data_.x.middleRows(st.chunk.begin, st.chunk.size);
  }

  double scale() const {
    return loss_.reduction == Reduction::mean ? 1.0 / static_cast<double>(data_.size()) : 1.0;
  }

  // Forward pass; with derivatives = true also stores sigma' and sigma''.
  void forward(const VectorXd& theta, ChunkState& st, bool derivatives) const {
    const int K = model_.n_layers();
    const Activation act_fn = model_.activation();
    st.act.resize(K);
    st.d1.resize(K);
    st.d2.resize(K);
    if (st.chunk.rows) chunk_rows(data_.x, st.chunk, st.batch_x);
    std::vector<MatrixXd>& zs = workspace(st.chunk).z;
    zs.resize(K);
    for (int k = 0; k < K; ++k) {
      const LayerSlice& s = model_.layer(k);
      MatrixXd& z = zs[k];
      ConstMap wt(theta.data() + s.weight_offset, s.in, s.out);
      z.resize(st.chunk.size, s.out);
      detail::gemm(input(st, k), detail::Op::none, wt, detail::Op::none, z, false,
                   s.bias_offset >= 0 ? theta.data() + s.bias_offset : nullptr);
      if (k + 1 == K) {
        st.out = model_.output_scale() * z;
        break;
      }
      MatrixXd& a = st.act[k + 1];
      a.resize(z.rows(), z.cols());
      if (derivatives) {
        st.d1[k + 1].resize(z.rows(), z.cols());
        st.d2[k + 1].resize(z.rows(), z.cols());
      }
      activation_batch(act_fn, z.data(), static_cast<long>(z.size()), a.data(),
                       derivatives ? st.d1[k + 1].data() : nullptr,
                       derivatives ? st.d2[k + 1].data() : nullptr);
    }
  }

  // Loss on the chunk; with want_gradient, G = dL/d(out) into gout. Also prepares the softmax
  // state for cross-entropy.
  void output_gradient(ChunkState& st, bool want_gradient, MatrixXd& gout) const {
    const Eigen::Ref<const MatrixXd> y = chunk_rows(data_.y, st.chunk, workspace(st.chunk).y_batch);
    const double c = scale();
    if (loss_.kind == LossKind::squared) {
      gout = st.out - y;
      st.loss = c * gout.squaredNorm();
      if (want_gradient) gout *= 2.0 * c;
      return;
    }
    // Cross-entropy with log-sum-exp shifted by the row maximum.
    const Index rows = st.out.rows();
    st.p.resize(rows, st.out.cols());
    st.row_mass = y.rowwise().sum();
    double total = 0.0;
    for (Index i = 0; i < rows; ++i) {
      const double m = st.out.row(i).maxCoeff();
      const auto e = (st.out.row(i).array() - m).exp();
      const double sum_e = e.sum();
      const double lse = m + std::log(sum_e);
      st.p.row(i) = e / sum_e;
      total += -(y.row(i).array() * (st.out.row(i).array() - lse)).sum();
    }
    st.loss = c * total;
    if (!want_gradient) return;
    // d/d out_i of -sum_j y_ij log p_ij = (sum_j y_ij) p_i - y_i.
    gout = c * ((st.p.array().colwise() * st.row_mass.array()).matrix() - y);
  }

  // Backward pass from G = dL/d(out): dz[k] = dL/dz_k and ga[k] = dL/dact[k] into st (their
  // storage reused), and the gradient into g (length n) unless g is null (an HVP from scratch
  // needs dz and ga but not the weight gradient; dz[0] is then left as it was).
  void backward(const VectorXd& theta, ChunkState& st, const MatrixXd& gout, double* g) const {
    backward_into(theta, st, gout, st.dz, st.ga, g);
  }
  // The same reading only st's forward pass, with dL/dz and dL/dact into dz and ga (a cached
  // state stays as it is).
  void backward_into(const VectorXd& theta, const ChunkState& st, const MatrixXd& gout,
                     std::vector<MatrixXd>& dz, std::vector<MatrixXd>& ga, double* g) const {
    const int K = model_.n_layers();
    dz.resize(K);
    ga.resize(K);
    dz[K - 1] = model_.output_scale() * gout;
    for (int k = K - 1; k >= 0; --k) {
      const LayerSlice& s = model_.layer(k);
      if (g) {
        Eigen::Map<MatrixXd> gw(g + s.weight_offset, s.in, s.out);
        detail::gemm(input(st, k), detail::Op::transpose, dz[k], detail::Op::none, gw, false);
        if (s.bias_offset >= 0)
          Eigen::Map<Eigen::RowVectorXd>(g + s.bias_offset, s.out) = dz[k].colwise().sum();
      }
      if (k > 0) {
        ConstMap wt(theta.data() + s.weight_offset, s.in, s.out);
        // dz[0] feeds only layer 0's weight gradient: the R-passes read dz[k] for k >= 1 alone
        // (one pass over the first hidden layer fewer for an HVP from scratch), and ga[1] too
        // when it is the output layer with one output (r_backward_columns<1> forms it).
        const bool need_dz = g || k > 1;
        if (!need_dz && k == K - 1 && s.out == 1) continue;
        times_transpose(dz[k], wt, ga[k], false);
        if (need_dz) dz[k - 1] = ga[k].cwiseProduct(st.d1[k]);
      }
    }
  }

  // Forward pass, loss and backward pass on the chunk st.chunk into st, with the gradient into g
  // unless g is null; st then serves the R-passes.
  void forward_backward(const VectorXd& theta, ChunkState& st, double* g) const {
    forward(theta, st, true);
    MatrixXd& gout = workspace(st.chunk).gout;
    output_gradient(st, true, gout);
    backward(theta, st, gout, g);
  }
  // The forward pass of chunk c at theta: `cached` when given (a PassCache's), else computed
  // into this thread's workspace.
  const ChunkState& forward_state(const VectorXd& theta, const Chunk& c,
                                  const ChunkState* cached) const {
    if (cached) return *cached;
    Workspace& w = workspace(c);
    w.st.chunk = c;
    forward(theta, w.st, true);
    return w.st;
  }
  // The same on chunk c in this thread's workspace.
  const Workspace& forward_backward(const VectorXd& theta, const Chunk& c, double* g) const {
    Workspace& w = workspace(c);
    w.st.chunk = c;
    forward_backward(theta, w.st, g);
    return w;
  }

  // R-forward on the chunk of a state made by forward(derivatives): rz[k] = R{z_k} and ract[k] =
  // R{act[k]} (ract[0] = 0) in this thread's workspace, and R{out} = J v on the chunk's points
  // into w.rout. Returns the workspace.
  Workspace& r_forward(const VectorXd& theta, const ChunkState& st, const double* v) const {
    const int K = model_.n_layers();
    Workspace& w = workspace(st.chunk);
    std::vector<MatrixXd>&rz = w.rz, &ract = w.ract;
    rz.resize(K);
    ract.resize(K);
    for (int k = 0; k < K; ++k) {
      const LayerSlice& s = model_.layer(k);
      ConstMap vt(v + s.weight_offset, s.in, s.out);
      MatrixXd& z = rz[k];
      z.resize(st.chunk.size, s.out);
      detail::gemm(input(st, k), detail::Op::none, vt, detail::Op::none, z, false);
      if (k > 0)
        detail::gemm(ract[k], detail::Op::none,
                     ConstMap(theta.data() + s.weight_offset, s.in, s.out), detail::Op::none, z,
                     true);
      if (k + 2 == K) {  // the next layer is the output layer: if narrow, both in one pass
        const LayerSlice& o = model_.layer(K - 1);
        rz[K - 1].resize(st.chunk.size, o.out);
        // (rz[k] then stays without its bias, and ract[k + 1] unset: r_backward_narrow forms
        // both.)
        if (r_forward_narrow(z, s.bias_offset >= 0 ? v + s.bias_offset : nullptr, st.d1[K - 1],
                             st.act[K - 1], ConstMap(theta.data() + o.weight_offset, o.in, o.out),
                             ConstMap(v + o.weight_offset, o.in, o.out),
                             o.bias_offset >= 0 ? v + o.bias_offset : nullptr, rz[K - 1]))
          break;
      }
      if (s.bias_offset >= 0)
        z.rowwise() += Eigen::Map<const Eigen::RowVectorXd>(v + s.bias_offset, s.out);
      if (k + 1 < K) ract[k + 1] = st.d1[k + 1].cwiseProduct(z);
    }
    w.rout = model_.output_scale() * rz[K - 1];
    return w;
  }

  // H v on one chunk, written into hv (length n), from a state made by forward(derivatives) and
  // backward(keep). Pearlmutter's R-operator: R-forward then R-backward.
  void hvp_chunk(const VectorXd& theta, const ChunkState& st, const double* v, double* hv) const {
    const int K = model_.n_layers();
    const double sc = model_.output_scale();
    Workspace& w = r_forward(theta, st, v);
    const std::vector<MatrixXd>&rz = w.rz, &ract = w.ract;
    const MatrixXd& rout = w.rout;
    MatrixXd& rg = w.rg;
    std::vector<MatrixXd>&rdz = w.rdz, &rga = w.rga;
    rdz.resize(K);
    rga.resize(K);
    // R{G} at the output: the loss Hessian with respect to the output applied to R{out}.
    const double c = scale();
    if (loss_.kind == LossKind::squared) {
      rg = (2.0 * c) * rout;
    } else {
      // Per row: m_i (diag(p) - p p^T) R{out_i}.
      const Eigen::VectorXd pr = st.p.cwiseProduct(rout).rowwise().sum();
      rg = (st.p.cwiseProduct(rout) - (st.p.array().colwise() * pr.array()).matrix());
      rg = c * (rg.array().colwise() * st.row_mass.array()).matrix();
    }
    // R-backward.
    rdz[K - 1] = sc * rg;
    bool bias_done = false;  // this layer's bias part came with the narrow layer after it
    for (int k = K - 1; k >= 0; --k) {
      const LayerSlice& s = model_.layer(k);
      if (s.bias_offset >= 0 && !bias_done)
        Eigen::Map<Eigen::RowVectorXd>(hv + s.bias_offset, s.out) = rdz[k].colwise().sum();
      bias_done = false;
      Eigen::Map<MatrixXd> hw(hv + s.weight_offset, s.in, s.out);
      ConstMap wt(theta.data() + s.weight_offset, s.in, s.out);
      ConstMap vt(v + s.weight_offset, s.in, s.out);
      if (k > 0 && k == K - 1) {  // the output layer, if narrow (see r_forward)
        const LayerSlice& prev = model_.layer(k - 1);
        double* hb = prev.bias_offset >= 0 ? hv + prev.bias_offset : nullptr;
        const double* vb = prev.bias_offset >= 0 ? v + prev.bias_offset : nullptr;
        if (r_backward_narrow(rdz[k], st.dz[k], wt, vt, st.act[k], st.d1[k], st.ga[k], st.d2[k],
                              rz[k - 1], vb, rdz[k - 1], hw.data(), hb)) {
          bias_done = hb != nullptr;
          continue;
        }
      }
      detail::gemm(input(st, k), detail::Op::transpose, rdz[k], detail::Op::none, hw, false);
      if (k > 0) {
        detail::gemm(ract[k], detail::Op::transpose, st.dz[k], detail::Op::none, hw, true);
        times_transpose(rdz[k], wt, rga[k], false);
        times_transpose(st.dz[k], vt, rga[k], true);
        // R{dz_{k-1}} = R{ga} .* sigma' + ga .* sigma'' .* R{z_{k-1}}.
        rdz[k - 1] =
            rga[k].cwiseProduct(st.d1[k]) + st.ga[k].cwiseProduct(st.d2[k]).cwiseProduct(rz[k - 1]);
      }
    }
  }

  const Mlp& model_;
  const Dataset& data_;
  const LossSpec& loss_;
};

void check_vector(const Objective& o, const VectorXd& v, std::string_view what) {
  if (v.size() != o.n_params())
    throw std::invalid_argument(std::string(what) + " has length " + std::to_string(v.size()) +
                                " but the network has " + std::to_string(o.n_params()) +
                                " parameters");
}

}  // namespace

// The last full-data loss_gradient's per-chunk state (see objective.hpp). theta is empty while
// nothing valid is kept. The mutex is only ever tried: a thread that finds it taken computes
// without the cache.
struct Objective::PassCache {
  std::mutex mutex;
  VectorXd theta;
  std::vector<ChunkState> chunks;
};

const Objective::PassCache* Objective::cached_at(const VectorXd& theta,
                                                 std::unique_lock<std::mutex>& lock) const {
  if (!cache_) return nullptr;
  lock = std::unique_lock<std::mutex>(cache_->mutex, std::try_to_lock);
  if (lock.owns_lock() && cache_->theta.size() == theta.size() &&
      std::memcmp(cache_->theta.data(), theta.data(), sizeof(double) * size_t(theta.size())) == 0)
    return cache_.get();
  if (lock.owns_lock()) lock.unlock();
  return nullptr;
}

Objective::Objective(const Mlp& model, const Dataset& data, LossSpec loss)
    : Objective(model, std::make_shared<const Dataset>(data), loss) {}

Objective::Objective(const Mlp& model, std::shared_ptr<const Dataset> shared, LossSpec loss)
    : model_(model), data_(std::move(shared)), loss_(loss) {
  if (!data_) throw std::invalid_argument("Objective: data is null");
  const Dataset& data = *data_;
  data.validate();
  if (data.input_dim() != model_.input_dim())
    throw std::invalid_argument(
        "data '" + data.name + "' has inputs of dimension " + std::to_string(data.input_dim()) +
        " but the network " + model_.describe() + " expects " + std::to_string(model_.input_dim()));
  if (data.output_dim() != model_.output_dim())
    throw std::invalid_argument("data '" + data.name + "' has targets of dimension " +
                                std::to_string(data.output_dim()) + " but the network " +
                                model_.describe() + " has " + std::to_string(model_.output_dim()) +
                                " outputs");
  // Workspace of one gradient or HVP, estimated before any is taken: one n-vector per chunk, and
  // per concurrent chunk ten rows x width matrices per layer (activations, sigma', sigma'', the
  // backward pass's dZ and dA, the GEMM scratch, the R-passes' R{z}, R{act}, R{dz}, R{dA}).
  const auto chunks = make_chunks(model_, data.size());
  const Index rows = chunks.empty() ? 0 : chunks.front().size;
  double width_sum = 0.0;
  for (Index w : model_.spec().widths) width_sum += double(w);
  const double threads = std::min<double>(num_threads(), double(chunks.size()));
  io::check_memory(8.0 * (double(chunks.size() + 2) * double(n_params()) +
                          10.0 * std::max(threads, 1.0) * double(rows) * width_sum),
                   "the loss of the network " + model_.describe() + " on " +
                       std::to_string(data.size()) + " points",
                   "gradient buffers per chunk of points and per-thread layer activations");
  // A chunk's state: activations, sigma', sigma'', dL/dz and dL/dact, five rows x width matrices
  // per layer.
  if (8.0 * 5.0 * double(data.size()) * width_sum <= k_pass_cache_bytes)
    cache_ = std::make_shared<PassCache>();
  if (loss_.kind == LossKind::cross_entropy && (data.y.array() < 0).any())
    throw std::invalid_argument("cross-entropy needs non-negative targets (one-hot rows); data '" +
                                data.name + "' has a negative entry");
}
Objective::~Objective() = default;
// A copy keeps a cache of its own (empty), so copies used on different threads never contend.
Objective::Objective(const Objective& o)
    : model_(o.model_),
      data_(o.data_),
      loss_(o.loss_),
      cache_(o.cache_ ? std::make_shared<PassCache>() : nullptr) {}

double Objective::scale() const {
  return loss_.reduction == Reduction::mean ? 1.0 / static_cast<double>(data_->size()) : 1.0;
}

double Objective::residual_rounding_level(const VectorXd& r) const {
  constexpr double ulps = 4.0 * std::numeric_limits<double>::epsilon();
  const MatrixXd& y = data_->y;
  const Index l = y.cols();
  if (r.size() != y.size())
    throw std::invalid_argument("residual_rounding_level: r has length " +
                                std::to_string(r.size()) + ", expected " +
                                std::to_string(y.size()));
  double level = 0.0;
  for (Index k = 0; k < r.size(); ++k) {
    const double yk = y(k / l, k % l);
    level += 2.0 * std::abs(r[k]) * ulps * (std::abs(r[k] + yk) + std::abs(yk));
  }
  return level;
}

void Objective::require_squared(std::string_view what) const {
  if (loss_.kind != LossKind::squared)
    throw std::invalid_argument(std::string(what) + " needs the squared loss (residuals), not " +
                                std::string(to_string(loss_.kind)));
}

double Objective::loss(const VectorXd& theta) const {
  model_.check_parameters(theta);
  const Engine e(model_, *data_, loss_);
  const auto chunks = make_chunks(model_, data_->size());
  std::vector<double> parts(chunks.size());
  for_each_chunk(chunks.size(), [&](size_t c) {
    Workspace& w = workspace(chunks[c]);
    w.st.chunk = chunks[c];
    e.forward(theta, w.st, false);
    e.output_gradient(w.st, false, w.gout);
    parts[c] = w.st.loss;
  });
  double total = 0.0;
  for (double p : parts) total += p;
  return total;
}

Objective::LossGradient Objective::loss_gradient(const VectorXd& theta) const {
  model_.check_parameters(theta);
  return loss_gradient_chunks(theta, nullptr, data_->size());
}

Objective::LossGradient Objective::loss_gradient_terms(const VectorXd& theta,
                                                       std::span<const Index> terms) const {
  model_.check_parameters(theta);
  if (terms.empty()) throw std::invalid_argument("loss_gradient_terms: the list of terms is empty");
  for (Index i : terms)
    if (i < 0 || i >= data_->size())
      throw std::invalid_argument("loss_gradient_terms: term index " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(data_->size()) + ")");
  return loss_gradient_chunks(theta, terms.data(), static_cast<Index>(terms.size()));
}

// Loss and gradient over `count` points: rows 0..count-1 of the data (rows = nullptr) or the
// listed rows, in fixed chunks summed in chunk order.
Objective::LossGradient Objective::loss_gradient_chunks(const VectorXd& theta, const Index* rows,
                                                        Index count) const {
  const Engine e(model_, *data_, loss_);
  const auto chunks = make_chunks(model_, count, rows);
  std::vector<double> losses(chunks.size());
  LossGradient r;
  r.gradient.resize(n_params());
  std::vector<VectorXd>& parts = chunk_partials(chunks.size(), n_params());
  // Over the full data, the passes go into the cache (same arithmetic, so the same bits).
  std::unique_lock<std::mutex> lock;
  PassCache* cache = nullptr;
  if (!rows && cache_) {
    lock = std::unique_lock<std::mutex>(cache_->mutex, std::try_to_lock);
    if (lock.owns_lock()) {
      cache = cache_.get();
      cache->theta.resize(0);
      cache->chunks.resize(chunks.size());
    }
  }
  for_each_chunk(chunks.size(), [&](size_t c) {
    write_partial(c, r.gradient.data(), parts, n_params(), [&](double* g) {
      if (cache) {
        ChunkState& st = cache->chunks[c];
        st.chunk = chunks[c];
        e.forward_backward(theta, st, g);
        losses[c] = st.loss;
      } else {
        losses[c] = e.forward_backward(theta, chunks[c], g).st.loss;
      }
    });
  });
  if (cache) cache->theta = theta;
  r.loss = 0.0;
  for (double l : losses) r.loss += l;
  add_partials(chunks.size(), r.gradient.data(), n_params(), parts);
  return r;
}

VectorXd Objective::gradient(const VectorXd& theta) const { return loss_gradient(theta).gradient; }

VectorXd Objective::residuals(const VectorXd& theta) const {
  require_squared("residuals");
  const MatrixXd r = model_.predict(theta, data_->x) - data_->y;
  // Row-major flattening: r[i*l + j].
  VectorXd flat(r.size());
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      flat.data(), r.rows(), r.cols()) = r;
  return flat;
}

MatrixXd Objective::jacobian(const VectorXd& theta) const {
  MatrixXd jac;
  jacobian(theta, jac);
  return jac;
}

void Objective::jacobian(const VectorXd& theta, MatrixXd& jac) const {
  require_squared("the residual Jacobian");
  model_.check_parameters(theta);
  io::check_memory(8.0 * double(n_params()) * double(n_residuals()),
                   "the Jacobian of " + std::to_string(n_residuals()) + " residuals x " +
                       std::to_string(n_params()) + " parameters",
                   "l d n doubles");
  detail::assemble_jacobian(*this, theta, jac);
}

MatrixXd Objective::residual_gram(const VectorXd& theta) const {
  MatrixXd g;
  residual_gram(theta, g);
  return g;
}

void Objective::residual_gram(const VectorXd& theta, MatrixXd& g) const {
  require_squared("the residual Gram matrix");
  model_.check_parameters(theta);
  detail::assemble_residual_gram(*this, theta, g);
}

// The residuals r[i*l + j] as a row-major d x l matrix.
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

VectorXd Objective::jacobian_product(const VectorXd& theta, const VectorXd& v) const {
  require_squared("jacobian_product");
  model_.check_parameters(theta);
  check_vector(*this, v, "the vector v of J v");
  const Engine e(model_, *data_, loss_);
  const auto chunks = make_chunks(model_, data_->size());
  const Index l = model_.output_dim();
  VectorXd jv(n_residuals());
  std::unique_lock<std::mutex> lock;
  const PassCache* cache = cached_at(theta, lock);  // right after loss_gradient(theta)
  for_each_chunk(chunks.size(), [&](size_t c) {
    const ChunkState& st = e.forward_state(theta, chunks[c], cache ? &cache->chunks[c] : nullptr);
    const Workspace& w = e.r_forward(theta, st, v.data());
    Eigen::Map<RowMajor>(jv.data() + chunks[c].begin * l, chunks[c].size, l) = w.rout;
  });
  return jv;
}

VectorXd Objective::jacobian_transpose_product(const VectorXd& theta, const VectorXd& u) const {
  require_squared("jacobian_transpose_product");
  model_.check_parameters(theta);
  if (u.size() != n_residuals())
    throw std::invalid_argument("the vector u of J^T u has length " + std::to_string(u.size()) +
                                " but there are " + std::to_string(n_residuals()) + " residuals");
  const Engine e(model_, *data_, loss_);
  const auto chunks = make_chunks(model_, data_->size());
  const Index l = model_.output_dim();
  VectorXd jtu(n_params());
  std::vector<VectorXd>& parts = chunk_partials(chunks.size(), n_params());
  std::unique_lock<std::mutex> lock;
  const PassCache* cache = cached_at(theta, lock);  // right after loss_gradient(theta)
  for_each_chunk(chunks.size(), [&](size_t c) {
    const ChunkState& st = e.forward_state(theta, chunks[c], cache ? &cache->chunks[c] : nullptr);
    Workspace& w = workspace(chunks[c]);
    // The backward pass from dL/d(out) = u: sum_i (d out_i / d theta)^T u_i = J^T u (into the
    // R-backward scratch, which no other pass uses meanwhile).
    w.gout = Eigen::Map<const RowMajor>(u.data() + chunks[c].begin * l, chunks[c].size, l);
    write_partial(c, jtu.data(), parts, n_params(),
                  [&](double* out) { e.backward_into(theta, st, w.gout, w.rdz, w.rga, out); });
  });
  add_partials(chunks.size(), jtu.data(), n_params(), parts);
  return jtu;
}

VectorXd Objective::hvp(const VectorXd& theta, const VectorXd& v) const {
  model_.check_parameters(theta);
  check_vector(*this, v, "the vector v of the Hessian-vector product");
  // The passes of HessianOperator(theta).apply(v) chunk by chunk in this thread's workspace (no
  // per-call state, and no weight gradient, which H v does not need); the same arithmetic, so
  // the result is bitwise what the operator returns.
  // Right after loss_gradient(theta), its cached passes serve as they are.
  const Engine e(model_, *data_, loss_);
  const auto chunks = make_chunks(model_, data_->size());
  VectorXd hv(n_params());
  std::vector<VectorXd>& parts = chunk_partials(chunks.size(), n_params());
  std::unique_lock<std::mutex> lock;
  const PassCache* cache = cached_at(theta, lock);
  for_each_chunk(chunks.size(), [&](size_t c) {
    write_partial(c, hv.data(), parts, n_params(), [&](double* out) {
      if (cache)
        e.hvp_chunk(theta, cache->chunks[c], v.data(), out);
      else
        e.hvp_chunk(theta, e.forward_backward(theta, chunks[c], nullptr).st, v.data(), out);
    });
  });
  add_partials(chunks.size(), hv.data(), n_params(), parts);
  return hv;
}

HessianOperator Objective::hessian_operator(const VectorXd& theta) const {
  return HessianOperator(*this, theta);
}

MatrixXd Objective::hessian(const VectorXd& theta) const {
  // At most one hidden layer: B^T B plus block-sparse curvature, GEMMs only (dense_hessian.hpp).
  if (detail::gemm_hessian_applies(*this)) {
    model_.check_parameters(theta);
    return detail::assemble_hessian(*this, theta, {}, "dense Hessian");
  }
  const Index n = n_params();
  io::check_memory(3.0 * 8.0 * double(n) * double(n),
                   "the dense Hessian of " + std::to_string(n) + " parameters", "3 n^2 doubles");
  const HessianOperator op(*this, theta);
  MatrixXd h(n, n);
  // Columns in parallel; each column's HVP runs its chunks serially in the same fixed order, so
  // every column is bitwise what hvp() returns.
  detail::for_each_index(n, [&](Index j) {
    VectorXd ej = VectorXd::Zero(n);
    ej[j] = 1.0;
    op.perform_op(ej.data(), h.col(j).data());
  });
  // The exact Hessian is symmetric; HVP columns agree with rows to round-off only.
  MatrixXd sym = 0.5 * (h + h.transpose());
  return sym;
}

MatrixXd Objective::gauss_newton(const VectorXd& theta) const {
  io::check_memory(8.0 * double(n_params()) * (double(n_params()) + 2.0 * double(n_residuals())),
                   "the Gauss-Newton matrix of " + std::to_string(n_params()) + " parameters",
                   "n^2 + 2 l d n doubles");
  const MatrixXd j = jacobian(theta);
  MatrixXd g;
  detail::gram_lower(j, 2.0 * scale(), g);  // tiles over the threads (a rank update ran on one)
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  return g;
}

// ---------------------------------------------------------------------------------------------

struct HessianOperator::State {
  Mlp model;
  std::shared_ptr<const Dataset> data;  // shared with the Objective, never copied
  LossSpec loss;
  VectorXd theta;
  std::vector<ChunkState> chunks;
  double loss_value = 0.0;
  VectorXd gradient;
};

HessianOperator::HessianOperator(const Objective& objective, const VectorXd& theta)
    : state_(std::make_unique<State>(
          State{objective.model(), objective.data_, objective.loss_spec(), theta, {}, 0.0, {}})),
      n_(objective.n_params()) {
  State& s = *state_;
  s.model.check_parameters(theta);
  const Engine e(s.model, *s.data, s.loss);
  const auto chunks = make_chunks(s.model, s.data->size());
  s.chunks.resize(chunks.size());
  s.gradient.resize(n_);
  std::vector<VectorXd>& parts = chunk_partials(chunks.size(), n_);
  for_each_chunk(chunks.size(), [&](size_t c) {
    ChunkState& st = s.chunks[c];
    st.chunk = chunks[c];
    write_partial(c, s.gradient.data(), parts, n_,
                  [&](double* g) { e.forward_backward(theta, st, g); });
  });
  for (const ChunkState& st : s.chunks) s.loss_value += st.loss;
  add_partials(chunks.size(), s.gradient.data(), n_, parts);
}
HessianOperator::~HessianOperator() = default;
HessianOperator::HessianOperator(HessianOperator&&) noexcept = default;

void HessianOperator::perform_op(const double* v, double* y) const {
  const State& s = *state_;
  const Engine e(s.model, *s.data, s.loss);
  if (y < v + n_ && v < y + n_) {  // y overlaps v: chunk 0 writes y while others still read v
    const VectorXd copy = Eigen::Map<const VectorXd>(v, n_);
    return perform_op(copy.data(), y);
  }
  const size_t nc = s.chunks.size();
  std::vector<VectorXd>& parts = chunk_partials(nc, n_);
  for_each_chunk(nc, [&](size_t c) {
    write_partial(c, y, parts, n_, [&](double* out) { e.hvp_chunk(s.theta, s.chunks[c], v, out); });
  });
  add_partials(nc, y, n_, parts);
}

VectorXd HessianOperator::apply(const VectorXd& v) const {
  if (v.size() != n_)
    throw std::invalid_argument("HessianOperator: vector has length " + std::to_string(v.size()) +
                                ", expected " + std::to_string(n_));
  VectorXd y(n_);
  perform_op(v.data(), y.data());
  return y;
}

double HessianOperator::loss() const { return state_->loss_value; }
const VectorXd& HessianOperator::gradient() const { return state_->gradient; }

}  // namespace locus
