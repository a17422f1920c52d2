#pragma once
// locus's threaded loops (private to locus): the per-call ones run on one pool of worker
// threads of locus's own, the dense Hessian's bulk loops on OpenMP's (omp_parallel_for below).
//
//   detail::for_each_index(n, [&](Index i) { ... });            // threaded when it can be
//   detail::parallel_for(n, parallel, [&](Index i) { ... });    // threaded only if `parallel`
//
// run f(0), ..., f(n - 1), each index once, on the calling thread and the pool's workers
// (set_num_threads of them in all), each index taken by whichever thread is free; inline, in
// index order, for a single index, one thread, or inside an OpenMP region or a pool job.
// Results must not depend on which thread runs an index: callers sum per-index parts in index
// order, so their results are the same bits for any thread count.
//
// Why not OpenMP: libgomp's fork and join cost 3-4 us per region on a 2-core KVM guest (futex
// syscalls at both barriers), an eighth of a small net's HVP; a region whose `if` is false, or
// that has one thread, still forms a team of one and pays a futex syscall (1.2 us); and after a
// region libgomp's workers spin for milliseconds, so a second set of threads would find the
// cores taken (a gradient flow alternating pool HVPs with OpenMP preconditioner products ran
// 25% slower), so every loop between HVPs uses the pool too. Failure modes: an exception thrown by
// f reaches the caller once every started index is done.

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

// f(0), ..., f(n - 1) through for_each_index when `parallel` holds, else in index order on the
// calling thread.
template <class F>
void parallel_for(Eigen::Index n, bool parallel, const F& f) {
  if (!parallel) {
    for (Eigen::Index i = 0; i < n; ++i) f(i);
    return;
  }
  for_each_index(n, f);
}

// The same on OpenMP's threads, for the dense Hessian's and Jacobian's bulk loops (milliseconds
// per region), whose neighbouring indices write neighbouring memory (static: contiguous blocks
// per thread; single indices on the pool made the threads share cache lines, the Hessian of
// n = 2401 took 52 -> 77 ms) or vary in cost (dynamic: one index at a time). Inline, without a
// region (whose futex syscall libgomp pays even when it runs on one thread), when not parallel.
enum class Schedule { static_blocks, dynamic };
template <class F>
void omp_parallel_for(Eigen::Index n, bool parallel, const F& f,
                      Schedule schedule = Schedule::static_blocks) {
  if (!parallel || n < 2 || omp_get_max_threads() < 2 || omp_in_parallel() || in_pool_job()) {
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
