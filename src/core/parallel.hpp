#pragma once
// Loops over the OpenMP threads that cost nothing when they run serially (private to locus).
//
//   detail::parallel_for(n, parallel, [&](Index i) { ... });           // static schedule
//   detail::parallel_for(n, parallel, f, detail::Schedule::dynamic);  // dynamic, one at a time
//
// runs f(0), ..., f(n - 1): on the OpenMP threads when `parallel` holds, n > 1, more than one
// thread is allowed (set_num_threads) and the caller is not inside a parallel region already;
// otherwise in index order on the calling thread, as a plain loop.
//
// Why not `#pragma omp parallel for if (parallel)`: libgomp forms a team of one for a region
// whose `if` is false, or that has one thread, and releases its barrier with a futex syscall
// all the same. Measured on a 2-core KVM guest: 1.2 us per such region, a few percent of a small
// net's gradient or HVP (two per call: the chunk loop on one thread and the partial sums), and
// more of a small Lanczos step or gradient-flow preconditioner.
//
// Static: iteration i runs on the thread given by OpenMP's static partition (contiguous blocks);
// dynamic: iterations go to whichever thread is free. Results must not depend on which thread
// runs an iteration (callers sum per-iteration parts in index order).
// Cost: one parallel region when threaded, nothing otherwise. Failure modes: f must not throw
// (an exception escaping an OpenMP region terminates the program).

#include <omp.h>

#include <Eigen/Core>

namespace locus::detail {

enum class Schedule { static_blocks, dynamic };

template <class F>
void parallel_for(Eigen::Index n, bool parallel, const F& f,
                  Schedule schedule = Schedule::static_blocks) {
  if (!parallel || n < 2 || omp_get_max_threads() < 2 || omp_in_parallel()) {
    for (Eigen::Index i = 0; i < n; ++i) f(i);
    return;
  }
  if (schedule == Schedule::dynamic) {
#pragma omp parallel for schedule(dynamic, 1)
    for (Eigen::Index i = 0; i < n; ++i) f(i);
  } else {
#pragma omp parallel for schedule(static)
    for (Eigen::Index i = 0; i < n; ++i) f(i);
  }
}

}  // namespace locus::detail
