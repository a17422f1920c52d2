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

// f(i) for i = 0..n-1 on the calling thread and threads - 1 workers of locus's own pool, each
// index taken by whichever thread is free (a shared counter); returns when all n are done.
// For the chunk loop of a loss, gradient or HVP (src/core/objective.cpp), whose parallel region
// is paid on every call: libgomp's fork and join cost 3-4 us per region on a 2-core KVM guest
// (futex syscalls at both barriers), an eighth of a small net's HVP. The pool's workers spin
// for up to 50 us after a job, so back-to-back calls reach them through one cache line, then
// sleep on a futex (the next job wakes them with one syscall). The caller never waits for a
// worker that has not taken an index: when the workers are descheduled (a busy machine) the
// caller runs the indices itself.
// Returns false, having run nothing, when the pool is busy with another caller's job; the
// caller then runs the loop some other way.
// An exception thrown by f is rethrown on the calling thread once every started index is done.
// Cost: one atomic operation per index, plus a futex wake when the workers sleep.
bool run_on_pool(Eigen::Index n, int threads, void (*f)(const void* context, Eigen::Index),
                 const void* context);
// Whether the calling thread is running an index of a pool job.
bool in_pool_job();

// The same through a callable, falling back to an OpenMP loop (dynamic schedule) when the pool
// is busy with another caller's job, and to a plain loop for one index, on one thread, or
// inside an OpenMP parallel region or a pool job.
template <class F>
void for_each_index(Eigen::Index n, const F& f) {
  const int threads = omp_get_max_threads();
  if (n < 2 || threads < 2 || omp_in_parallel() || in_pool_job()) {
    for (Eigen::Index i = 0; i < n; ++i) f(i);
    return;
  }
  auto call = [](const void* context, Eigen::Index i) { (*static_cast<const F*>(context))(i); };
  if (run_on_pool(n, threads, call, &f)) return;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index i = 0; i < n; ++i) f(i);
}

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
