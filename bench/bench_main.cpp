// main() of locus's benchmark executables: google/benchmark's, plus a context block that says
// which build of locus produced the numbers (google/benchmark adds the CPU, caches and load).

#include <benchmark/benchmark.h>
#include <omp.h>

#include <Eigen/Core>
#include <string>

#include "locus/io/json.hpp"

int main(int argc, char** argv) {
  benchmark::AddCustomContext("locus_git_commit", locus::io::git_commit());
  benchmark::AddCustomContext("locus_git_dirty", locus::io::git_dirty() ? "true" : "false");
  benchmark::AddCustomContext("locus_build_type", LOCUS_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("locus_march_native", LOCUS_BENCH_NATIVE);
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  benchmark::AddCustomContext("compiler", "gcc " __VERSION__);
#endif
  benchmark::AddCustomContext("eigen_version", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                                   std::to_string(EIGEN_MINOR_VERSION));
  // Each benchmark sets its own thread count (its nthreads argument, echoed by the omp_threads
  // counter); this is the default the machine offers.
  benchmark::AddCustomContext("omp_max_threads_default", std::to_string(omp_get_max_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
