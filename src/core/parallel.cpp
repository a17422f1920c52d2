#include "parallel.hpp"

#include <pthread.h>

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

// One job at a time (busy_). A job is generation g: `ticket_` = g << 32 | next index and
// `limit_` = g << 32 | n; a thread takes index i by advancing the ticket from i to i + 1 while
// its generation is still g, so an index is run once, and a worker that wakes after the job is
// over (or during a later one) takes nothing of it. The caller returns only when done_ = n, so
// f and its context, published before the ticket, stay valid for every index taken.
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
    if (++generation_count_ == 0) ++generation_count_;  // 0 is the workers' initial "seen"
    const uint64_t g = generation_count_;
    f_.store(f, std::memory_order_relaxed);
    context_.store(context, std::memory_order_relaxed);
    participants_.store(threads, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    limit_.store(g << 32 | uint64_t(n), std::memory_order_relaxed);
    ticket_.store(g << 32, std::memory_order_release);
    // seq_cst store, then seq_cst load of sleepers_: a worker that counts itself a sleeper
    // after this load sees the new generation before it sleeps.
    generation_.store(uint32_t(g), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
    take_indices(uint32_t(g));
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
  // Takes and runs indices of generation g until none is left.
  void take_indices(uint32_t g) {
    const uint64_t limit = limit_.load(std::memory_order_relaxed);
    if (limit >> 32 != g) return;
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if (t >> 32 != g || (t & 0xffffffffu) >= (limit & 0xffffffffu)) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
        continue;
      try {
        f_.load(std::memory_order_relaxed)(context_.load(std::memory_order_relaxed),
                                           Eigen::Index(t & 0xffffffffu));
      } catch (...) {
        std::lock_guard<std::mutex> guard(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
      t = ticket_.load(std::memory_order_acquire);
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
      // The limit's generation tells whether `seen` is still the current job (else skip it).
      const uint64_t limit = limit_.load(std::memory_order_relaxed);
      if (uint32_t(limit >> 32) != seen) continue;
      if (index < participants_.load(std::memory_order_relaxed)) {
        const InJob in_job;
        take_indices(seen);
      }
    }
  }

  std::atomic<bool> busy_{false};  // a job is in flight; the two fields below are its caller's
  int started_ = 0;                // workers started (they live as long as the process)
  uint32_t generation_count_ = 0;  // wraps after 2^32 jobs
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
  alignas(64) std::atomic<uint64_t> ticket_{0};
  alignas(64) std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> limit_{0};
  std::atomic<int> participants_{0};
  std::atomic<void (*)(const void*, Eigen::Index)> f_{nullptr};
  std::atomic<const void*> context_{nullptr};
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
