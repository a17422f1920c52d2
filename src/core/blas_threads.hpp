#pragma once
// The number of threads OpenBLAS may use inside locus's LAPACK and BLAS calls (private to locus;
// in core because the layer products of an AVX2 build call dgemm, core/gemm.hpp).
//
// OpenBLAS keeps its own pool of worker threads, sized to the machine and blind to locus's
// OpenMP thread count (set_num_threads). After a threaded call its workers keep spinning on
// sched_yield for a while, on the cores locus's OpenMP threads use next, and inside LAPACK every
// small BLAS-2 call (the bulge chasing of dsyevd_2stage calls dsymv on 64 x 64 blocks thousands
// of times) is split over threads that synchronise by yielding. Measured on a 2-core VM against
// OpenBLAS's default of two threads: every eigenvalue of a dense Hessian at n = 601, 2401, 4801
// took 43 -> 22 ms, 0.92 -> 0.52 s, 3.7 -> 3.6 s; the SVD and rank of a 500 x 2401 Jacobian
// 95 -> 56 ms; `locus reproduce` 39 -> 30 s of wall time and 69 -> 43 s of CPU time (sched_yield
// and its kernel entry had been a third of all CPU time). So every
// LAPACK call in locus runs inside a scope that holds OpenBLAS to one thread:
//
//   const detail::SerialBlas serial;  // OpenBLAS runs on the calling thread until scope end
//
// Running LAPACK single-threaded also makes its results independent of the machine's core
// count (a threaded dsymv sums its partial products in a thread-count-dependent order).
// A chunk's dgemm (core/gemm.cpp) runs in such a scope too, on the thread that owns the chunk.
// The one exception is the Cholesky factor of n >= 1000 (solvers/dense.cpp), BLAS-3 throughout,
// where OpenBLAS's threads pay (n = 2401: 65 -> 42 ms with two).
//
// The count in force before the outermost scope is restored when it closes, so the rest of the
// process (numpy, scipy or torch sharing OpenBLAS in one Python session) keeps its setting.
// Scopes nest and may be opened from several threads at once: the first to open sets one thread,
// the last to close restores. Cost: a mutex and, at the outermost scope, two calls that set an
// integer. Without OpenBLAS (another LAPACK, whose controls are absent: weak symbols) a no-op.

namespace locus::detail {

class SerialBlas {
 public:
  SerialBlas();
  ~SerialBlas();
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;
};

// OpenBLAS's current thread count (its own pool, not OpenMP's); 0 when OpenBLAS is not linked.
int blas_threads();

}  // namespace locus::detail
