// The distance between two cores, as a multi-thread timing sees it: how long one cache line takes
// to go from the first CPU this process may run on to the second and back.
//
//   BM_CacheLineRoundTrip: the benchmark's thread, pinned to the first CPU of the process's
//   affinity mask, writes i into one cache line; a partner thread pinned to the second CPU waits
//   for it and writes i into a second line, which the first waits for. Time per iteration = one
//   round trip (two transfers of a line between the cores' caches). Counters cpu_a and cpu_b
//   name the two CPUs.
//
// locus's pool hands a job to its worker and takes the chunks' partial vectors back through such
// transfers (src/core/parallel.cpp, objective.cpp), so a small net's two-thread HVP depends on
// them: on a 2-core KVM guest of a Zen 5 EPYC the [10,64,1] HVP took 30 us on two threads when a
// round trip took 180 ns (both vCPUs on one core complex) and 38-43 us when it took 460-590 ns
// (bench/README.md). compare_torch.py's core probe runs this with the one-thread HVP. Skipped
// (with an error message) when the process may run on fewer than two CPUs.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The CPUs of the calling thread's affinity mask, in increasing order.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

struct alignas(64) Line {
  std::atomic<int64_t> value{0};
};

void BM_CacheLineRoundTrip(benchmark::State& state) {
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) {
    state.SkipWithError("the process may run on fewer than two CPUs");
    return;
  }
  cpu_set_t before;
  pthread_getaffinity_np(pthread_self(), sizeof before, &before);
  Line ping, pong;
  // The partner echoes every value of ping into pong until it reads -1.
  std::thread partner([&] {
    pin_to(cpus[1]);
    int64_t seen = 0;
    for (;;) {
      int64_t v;
      while ((v = ping.value.load(std::memory_order_acquire)) == seen) relax();
      if (v < 0) return;
      seen = v;
      pong.value.store(v, std::memory_order_release);
    }
  });
  pin_to(cpus[0]);
  int64_t i = 0;
  for (auto _ : state) {
    ping.value.store(++i, std::memory_order_release);
    while (pong.value.load(std::memory_order_acquire) != i) relax();
  }
  ping.value.store(-1, std::memory_order_release);
  partner.join();
  pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  state.counters["cpu_a"] = cpus[0];
  state.counters["cpu_b"] = cpus[1];
}
BENCHMARK(BM_CacheLineRoundTrip)->UseRealTime();

}  // namespace
