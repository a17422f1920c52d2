// The loops of src/core/parallel.hpp: every index runs exactly once, whichever path runs it
// (locus's worker pool, the OpenMP fallback when the pool is busy with another caller, or inline
// on one thread, inside a parallel region or inside a pool job); an exception reaches the caller
// and leaves the pool usable; serial loops run in index order.

#include "core/parallel.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace locus::detail {
namespace {

using Eigen::Index;

// Runs for_each_index over n indices and returns how often each index ran.
std::vector<int> counts_of(Index n) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  for_each_index(n, [&](Index i) { hits[size_t(i)].fetch_add(1); });
  std::vector<int> out;
  for (auto& h : hits) out.push_back(h.load());
  return out;
}

TEST(Parallel, EveryIndexRunsOnceForAnyThreadCount) {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3, 5})
    for (Index n : {0, 1, 2, 3, 17, 1000}) {
      omp_set_num_threads(threads);
      // Many jobs back to back: the workers are caught spinning, and after a pause asleep.
      for (int rep = 0; rep < 50; ++rep)
        EXPECT_EQ(counts_of(n), std::vector<int>(size_t(n), 1))
            << n << " indices, " << threads << " threads";
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      EXPECT_EQ(counts_of(n), std::vector<int>(size_t(n), 1));
    }
  omp_set_num_threads(saved);
}

// Four threads submit jobs at once: one holds the pool, the others take the OpenMP path; a loop
// inside a pool job runs inline; a loop inside an OpenMP region runs inline.
TEST(Parallel, ConcurrentAndNestedCallersAllComplete) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      omp_set_num_threads(2);
      for (int rep = 0; rep < 200; ++rep)
        if (counts_of(13) != std::vector<int>(13, 1)) bad.fetch_add(1);
    });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);

  std::vector<std::atomic<int>> inner(static_cast<size_t>(8 * 9));
  for_each_index(8, [&](Index i) {
    EXPECT_TRUE(in_pool_job() || omp_in_parallel() || omp_get_max_threads() < 2);
    for_each_index(9, [&](Index j) { inner[size_t(i * 9 + j)].fetch_add(1); });
  });
  for (auto& h : inner) EXPECT_EQ(h.load(), 1);
  std::vector<int> order;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    for_each_index(6, [&](Index i) { order.push_back(int(i)); });  // inline: index order
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  omp_set_num_threads(saved);
}

TEST(Parallel, AnExceptionReachesTheCallerAndThePoolStaysUsable) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  for (Index bad : {0, 5, 9}) {
    std::atomic<int> ran{0};
    EXPECT_THROW(for_each_index(10,
                                [&](Index i) {
                                  ran.fetch_add(1);
                                  if (i == bad) throw std::runtime_error("index failed");
                                }),
                 std::runtime_error);
    EXPECT_EQ(ran.load(), 10);  // the other indices still ran
    EXPECT_EQ(counts_of(10), std::vector<int>(10, 1));
  }
  omp_set_num_threads(saved);
}

TEST(Parallel, SerialLoopsRunInIndexOrder) {
  std::vector<Index> order;
  parallel_for(7, false, [&](Index i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<Index>{0, 1, 2, 3, 4, 5, 6}));
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  order.clear();
  for_each_index(4, [&](Index i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<Index>{0, 1, 2, 3}));
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace locus::detail
