#include "parallel.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

namespace locus::detail {

namespace {

using Clock = std::chrono::steady_clock;
// How long an idle worker spins before it sleeps, and how long the caller spins on a worker's
// unfinished index before it also yields the core.
constexpr auto k_spin = std::chrono::microseconds(50);

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins while pred() holds, for at most k_spin; returns whether pred() still holds.
template <class Pred>
bool spin_while(const Pred& pred) {
  const Clock::time_point until = Clock::now() + k_spin;
  for (int i = 1; pred(); ++i) {
    relax();
    if (i % 64 == 0 && Clock::now() > until) return pred();
  }
  return false;
}

// Whether this thread is running indices of a pool job (the caller or a worker): a loop inside
// one runs inline.
thread_local bool t_in_job = false;
struct InJob {
  InJob() { t_in_job = true; }
  ~InJob() { t_in_job = false; }
};

// One job at a time (busy_). A job of n indices is published as ticket_ = n << 32 | 0 (with f
// and its context on the ticket's cache line), then announced by generation_ = job count << 16 |
// participants (a worker that counts itself among them goes on to the ticket). Every thread takes
// index i by one fetch_add on the ticket, which returns n << 32 | i: i < n is an index of the
// job now published, run with the f and context read after it (the caller publishes the next
// job only once done_ = n, so they stay valid); i >= n means nothing is left (the low half then
// exceeds n by at most one per thread per job, never reaching the high half). A worker that
// arrives late, even during a later job, thus takes nothing of a finished job, only indices of
// the current one; the results are the same whichever thread runs an index. (A worker stalled
// between reading a job's participant count and its first fetch_add may so join the next job
// even when that one counts fewer participants: the count caps the threads except in that
// window, which a compare-exchange against the job's generation would close at one more
// transfer per index.) Per index one read-modify-write of the ticket's line, where a load and a
// compare-exchange of it cost two cache-line transfers between cores, and the worker starts
// without reading any line but the generation's and the ticket's.
class Pool {
 public:
  bool run(Eigen::Index n, int threads, void (*f)(const void*, Eigen::Index), const void* context) {
    if (n >= (Eigen::Index{1} << 31) || busy_.exchange(true, std::memory_order_acquire))
      return false;
    struct Release {
      std::atomic<bool>& busy;
      ~Release() { busy.store(false, std::memory_order_release); }
    } release{busy_};
    const InJob in_job;
    for (int w = started_; w < threads - 1; ++w) std::thread([this, w] { work(w + 1); }).detach();
    if (threads - 1 > started_) started_ = threads - 1;
    job_count_ = uint16_t(job_count_ + 1);
    if (job_count_ == 0) job_count_ = 1;  // generation 0 is the workers' initial "seen"
    const uint32_t participants = uint32_t(std::min(threads, 0xffff));
    f_.store(f, std::memory_order_relaxed);
    context_.store(context, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    ticket_.store(uint64_t(n) << 32, std::memory_order_release);
    // seq_cst store, then seq_cst load of sleepers_: a worker that counts itself a sleeper
    // after this load sees the new generation before it sleeps.
    generation_.store(uint32_t(job_count_) << 16 | participants, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
    take_indices();
    // Indices taken by workers and not yet finished: spin, then sleep in short naps (a long
    // index, or a descheduled worker; a sched_yield loop instead took the dense Hessian of
    // n = 2401 from 52 to 77 ms on a 2-core KVM guest).
    const auto unfinished = [&] { return done_.load(std::memory_order_acquire) < uint64_t(n); };
    while (spin_while(unfinished))
      while (unfinished()) std::this_thread::sleep_for(std::chrono::microseconds(20));
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  // Takes and runs indices of the published job until none is left.
  void take_indices() {
    for (;;) {
      const uint64_t t = ticket_.fetch_add(1, std::memory_order_acq_rel);
      if (uint32_t(t) >= uint32_t(t >> 32)) return;
      try {
        f_.load(std::memory_order_relaxed)(context_.load(std::memory_order_relaxed),
                                           Eigen::Index(uint32_t(t)));
      } catch (...) {
        std::lock_guard<std::mutex> guard(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  [[noreturn]] void work(int index) {
    uint32_t seen = 0;
    for (;;) {
      const auto idle = [&] { return generation_.load(std::memory_order_acquire) == seen; };
      if (spin_while(idle)) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (generation_.load(std::memory_order_seq_cst) == seen)
          generation_.wait(seen, std::memory_order_acquire);
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (uint32_t(index) < (seen & 0xffffu)) {
        const InJob in_job;
        take_indices();
      }
    }
  }

  std::atomic<bool> busy_{false};  // a job is in flight; the two fields below are its caller's
  int started_ = 0;                // workers started (they live as long as the process)
  uint16_t job_count_ = 0;         // wraps after 2^16 jobs (never 0 once a job ran)
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
  alignas(64) std::atomic<uint64_t> ticket_{0};
  std::atomic<void (*)(const void*, Eigen::Index)> f_{nullptr};
  std::atomic<const void*> context_{nullptr};
  alignas(64) std::atomic<uint64_t> done_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

// The process's pool, created on first use and never destroyed (its detached workers may still
// be spinning or sleeping at exit). A child process forked from one that had started workers
// has none of them: it starts a pool of its own.
Pool* g_pool = nullptr;
std::once_flag g_pool_once;
Pool& pool() {
  std::call_once(g_pool_once, [] {
    g_pool = new Pool();
    pthread_atfork(nullptr, nullptr, [] { g_pool = new Pool(); });
  });
  return *g_pool;
}

}  // namespace

bool run_on_pool(Eigen::Index n, int threads, void (*f)(const void*, Eigen::Index),
                 const void* context) {
  return pool().run(n, threads, f, context);
}

bool in_pool_job() { return t_in_job; }

}  // namespace locus::detail
