// This machine's float64 GEMM throughput, the ceiling for locus's GEMM-bound passes: OpenBLAS
// cblas_dgemm (one and two threads), Eigen's GEMM and locus's own (src/core/gemm.cpp, the one
// locus's passes call; Eigen's where the CPU lacks AVX-512), at the shapes of the
// [784,512,512,10] net on d = 1024 points:
//   (m, k, n) = (1024, 784, 512)   first layer:  z_0 = X W_0^T, and its R-forward X V_0^T
//               (1024, 512, 512)   second layer: z_1 = a_1 W_1^T, R{a_1} W_1^T, dz_1 W_1 ...
// C (m x n) = A (m x k) B (k x n), all column-major; FLOP/s counts 2 m k n per call.
//
// The Eigen and locus benchmarks also reproduce locus's data-parallel scheme
// (src/core/objective.cpp): the d rows are cut into chunks (`chunk` rows, 0 = one chunk) that
// OpenMP threads take in turn, each chunk a single-threaded GEMM (EIGEN_DONT_PARALLELIZE).
// BM_Dgemm_*AtB is the weight-gradient pattern C = sum_c A_c^T B_c over chunks c of the k = d rows
// (per-chunk products summed in chunk order, as locus sums its per-chunk gradients).
// BM_FmaPeak is the ceiling above every GEMM: the multiply-add rate of this build's vectors.

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <string>
#include <vector>

#include "core/gemm.hpp"
#include "core/simd.hpp"

namespace {

using Eigen::MatrixXd;

MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::srand(seed);  // Eigen's Random() draws from std::rand
  return MatrixXd::Random(rows, cols);
}

void set_flops(benchmark::State& state, double flop, int threads) {
  state.counters["flop"] = flop;
  state.counters["FLOP/s"] =
      benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads_used"] = threads;
}

// Args({m, k, n, nthreads}).
void BM_Dgemm_OpenBlas(benchmark::State& state) {
  const Eigen::Index m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  openblas_set_num_threads(threads);
  const MatrixXd a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
  MatrixXd c(m, n);
  for (auto _ : state) {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0, a.data(), static_cast<int>(m), b.data(),
                static_cast<int>(k), 0.0, c.data(), static_cast<int>(m));
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * m * k * n, openblas_get_num_threads());
}

struct Chunk {
  Eigen::Index begin, size;
};
std::vector<Chunk> chunks_of(Eigen::Index rows, Eigen::Index chunk) {
  if (chunk <= 0) chunk = rows;
  std::vector<Chunk> out;
  for (Eigen::Index b = 0; b < rows; b += chunk) out.push_back({b, std::min(chunk, rows - b)});
  return out;
}

// A chunk's product: Eigen's, or locus's own (src/core/gemm.cpp, what locus's passes call).
enum class Kernel { eigen, locus };
template <class A, class B>
void product(Kernel kernel, const A& a, locus::detail::Op op_a, const B& b, MatrixXd& c) {
  const bool ta = op_a == locus::detail::Op::transpose;
  if (kernel == Kernel::locus) {
    c.resize(ta ? a.cols() : a.rows(), b.cols());
    locus::detail::gemm(a, op_a, b, locus::detail::Op::none, c, false);
  } else if (ta) {
    c.noalias() = a.transpose() * b;
  } else {
    c.noalias() = a * b;
  }
}

// Args({m, k, n, chunk, nthreads}): C.middleRows(c) = A.middleRows(c) B for each row chunk c.
template <Kernel kernel>
void BM_Dgemm_Chunks(benchmark::State& state) {
  const Eigen::Index m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(4));
  const auto chunks = chunks_of(m, state.range(3));
  omp_set_num_threads(threads);
  const MatrixXd a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
  // One output block per chunk, as locus keeps one activation matrix per chunk.
  std::vector<MatrixXd> c(chunks.size());
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic, 1) if (chunks.size() > 1)
    for (size_t i = 0; i < chunks.size(); ++i)
      product(kernel, a.middleRows(chunks[i].begin, chunks[i].size), locus::detail::Op::none, b,
              c[i]);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * m * k * n, std::min<int>(threads, static_cast<int>(chunks.size())));
}
void BM_Dgemm_Eigen(benchmark::State& state) { BM_Dgemm_Chunks<Kernel::eigen>(state); }
void BM_Dgemm_Locus(benchmark::State& state) { BM_Dgemm_Chunks<Kernel::locus>(state); }

// Args({m, k, n, chunk, nthreads}): C (m x n) = sum_c A_c^T B_c with A (k x m), B (k x n) cut
// into row chunks c of the inner dimension k.
template <Kernel kernel>
void BM_Dgemm_ChunksAtB(benchmark::State& state) {
  const Eigen::Index m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(4));
  const auto chunks = chunks_of(k, state.range(3));
  omp_set_num_threads(threads);
  const MatrixXd a = random_matrix(k, m, 1), b = random_matrix(k, n, 2);
  std::vector<MatrixXd> part(chunks.size());
  MatrixXd c(m, n);
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic, 1) if (chunks.size() > 1)
    for (size_t i = 0; i < chunks.size(); ++i)
      product(kernel, a.middleRows(chunks[i].begin, chunks[i].size), locus::detail::Op::transpose,
              b.middleRows(chunks[i].begin, chunks[i].size), part[i]);
    c = part[0];
    for (size_t i = 1; i < part.size(); ++i) c += part[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * m * k * n, std::min<int>(threads, static_cast<int>(chunks.size())));
}
void BM_Dgemm_EigenAtB(benchmark::State& state) { BM_Dgemm_ChunksAtB<Kernel::eigen>(state); }
void BM_Dgemm_LocusAtB(benchmark::State& state) { BM_Dgemm_ChunksAtB<Kernel::locus>(state); }

#if LOCUS_SIMD
// The float64 multiply-add peak of the vectors this build uses (locus::detail::Simd: 8 doubles
// with AVX-512, 4 with AVX2), on each of nthreads threads at once: 12 independent chains of
// vector FMAs per thread (enough to hide a 4-cycle latency on up to three FMA pipes), 2^18 steps
// each. No GEMM of any library built for these vectors can exceed it, so it bounds every
// GEMM-bound workload: a pass of F GEMM FLOPs takes at least F / peak. The chains' values stay
// finite (x <- x * m + c with m < 1), and their sum is kept, so nothing is optimized away.
void BM_FmaPeak(benchmark::State& state) {
  using locus::detail::Simd;
  const int threads = static_cast<int>(state.range(0));
  constexpr int chains = 12;
  constexpr long steps = 1L << 18;
  double sink = 0.0;
  int used = 1;  // the threads OpenMP gave the region
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
#pragma omp single nowait
      used = omp_get_num_threads();
      const Simd::V m = Simd::broadcast(0.999999), c = Simd::broadcast(1e-6);
      Simd::V x[chains];
      for (int i = 0; i < chains; ++i) x[i] = Simd::broadcast(1.0 + i);
      for (long s = 0; s < steps; ++s) {
#pragma GCC unroll 12
        for (int i = 0; i < chains; ++i) x[i] = Simd::fma(x[i], m, c);
      }
      Simd::V total = x[0];
      for (int i = 1; i < chains; ++i) total = Simd::add(total, x[i]);
      double lanes[Simd::w];
      Simd::store(lanes, total);
      for (double v : lanes) sink += v;
    }
    benchmark::DoNotOptimize(sink);
  }
  set_flops(state, 2.0 * Simd::w * chains * steps * used, used);
  state.counters["vector_doubles"] = static_cast<double>(Simd::w);
}
BENCHMARK(BM_FmaPeak)
    ->ArgName("nthreads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
#endif

// The GEMM shapes of the large net: {m, k, n}.
const std::vector<std::vector<int64_t>> k_shapes = {{1024, 784, 512}, {1024, 512, 512}};

void openblas_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "nthreads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (const auto& s : k_shapes)
    for (int64_t t : {1, 2}) b->Args({s[0], s[1], s[2], t});
}
// Whole-matrix Eigen GEMM on one thread, then locus's 256-row chunks on one and two threads.
void eigen_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "chunk", "nthreads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (const auto& s : k_shapes) {
    b->Args({s[0], s[1], s[2], 0, 1});
    for (int64_t t : {1, 2}) b->Args({s[0], s[1], s[2], 256, t});
  }
}
// Weight gradients dW_0 = X^T dz_0 (784 x 512 from d = 1024) and dW_1 = a_1^T dz_1 (512 x 512).
void eigen_atb_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "chunk", "nthreads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (const auto& s : std::vector<std::vector<int64_t>>{{784, 1024, 512}, {512, 1024, 512}}) {
    b->Args({s[0], s[1], s[2], 0, 1});
    for (int64_t t : {1, 2}) b->Args({s[0], s[1], s[2], 256, t});
  }
}

BENCHMARK(BM_Dgemm_OpenBlas)->Apply(openblas_args);
BENCHMARK(BM_Dgemm_Eigen)->Apply(eigen_args);
BENCHMARK(BM_Dgemm_EigenAtB)->Apply(eigen_atb_args);
BENCHMARK(BM_Dgemm_Locus)->Apply(eigen_args);
BENCHMARK(BM_Dgemm_LocusAtB)->Apply(eigen_atb_args);

// OpenBLAS's build (core type, threading) goes into the context block.
const bool k_context_added = [] {
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_default_threads",
                              std::to_string(openblas_get_num_threads()));
  return true;
}();

}  // namespace
